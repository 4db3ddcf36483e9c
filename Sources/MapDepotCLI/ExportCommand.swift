import ArgumentParser
import ExportCore
import FileStorage
import Foundation
import GeoJSON
import JSONValues
import Logging
import MapDepotAPI
import MapDepotCore
import TileGrid
import TileSources
import ZipPackaging

/// `mapdepot export`: the export without a server, with the same planner and writer, and a progress bar.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export an ROI of a record or a source to a GeoPackage (RASTER) or a tileset zip (3D), and a metadata JSON."
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "Catalog record id (from the data directory's catalog).")
    var record: String?

    @OptionGroup var source: CatalogCommand.RecordOptions

    @Option(help: "ROI: a GeoJSON FeatureCollection of Polygon/MultiPolygon features.")
    var roi: String

    @Option(help: "Highest zoom for features that name no maxResolutionDeg.")
    var maxZoom: Int?

    @Option(help: "Output directory.")
    var out: String

    @Option(help: "DEM: data type of the coverage, INT16 or FLOAT32 (default: the record's).")
    var dataType: String?

    @Option(help: "DEM: resampling, nearest or bilinear (default nearest).")
    var resampleMethod: String?

    @Option(help: "DEM: target resolution in metres (default and finest: the record's).")
    var resolutionMeter: Double?

    func run() async throws {
        let config = try await global.load()
        let logger = global.logger(config)
        let catalogRecord: CatalogRecord
        if let record {
            guard let id = UUID(uuidString: record) else { throw ValidationError("--record must be a UUID") }
            let components = try await MapDepotComponents.open(config: config, logger: logger)
            defer { components.close() }
            catalogRecord = try await components.catalog.record(id: id)
        } else {
            let catalog = CatalogService(store: NoCatalogStore(), sources: LocalTileSourceOpener(), clock: SystemClock())
            catalogRecord = try await catalog.describe(try source.draft())
        }
        var features = try ExportRequest.parseROI(try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: roi))))
        if let maxZoom {
            guard (0...WorldCRS84Quad.maxZoom).contains(maxZoom) else { throw ValidationError("--max-zoom must be 0…22") }
            for index in features.indices where features[index].maxResolutionDeg == nil {
                features[index].maxResolutionDeg = WorldCRS84Quad.resolution(maxZoom)
            }
        }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let store = try DirectoryArtifactStore(root: out)
        let planner = ExportPlanner(maxTiles: config.export.maxTiles, tilesPerSecond: config.export.estimateTilesPerSecond)
        let runner = ExportRunner(
            sources: LocalTileSourceOpener(), artifacts: store, planner: planner,
            settings: .init(readConcurrency: config.export.readConcurrency, writeBatch: config.export.writeBatch, expiryDays: config.export.expiryDays),
            archiver: ZipDirectoryArchiver()
        )
        let bar = ProgressBar()
        let started = ContinuousClock.now
        var parameters: [String: JSONValue] = [:]
        parameters["dataType"] = dataType.map(JSONValue.string)
        parameters["resampleMethod"] = resampleMethod.map(JSONValue.string)
        parameters["resolutionMeter"] = resolutionMeter.map(JSONValue.number)
        // Checked before the run, in the API's words.
        if catalogRecord.domain == .dem { _ = try DEMOptions(parameters: .object(parameters), record: catalogRecord) }
        let result = try await runner.run(
            record: catalogRecord, roi: features, options: .object(parameters), folder: "", createdAt: SystemClock().now(), logger: logger
        ) { point in
            bar.show(point.progress)
            return .proceed
        }
        bar.show(100)
        bar.finish()
        guard case .completed(let outcome) = result else { throw ValidationError("the export stopped before it finished") }
        try? FileManager.default.removeItem(atPath: out + "/.staging")
        let seconds = (ContinuousClock.now - started).seconds
        for artifact in outcome.artifacts {
            print("\(out)/\(artifact.name)  \(artifact.size) bytes  sha256 \(artifact.sha256)")
        }
        print(
            "\(outcome.tilesWritten) tiles written, \(outcome.tilesMissing) missing in the source, \(String(format: "%.1f", seconds)) s"
        )
        print(
            String(
                format: "phases: plan %.2f s, copy %.2f s, checksum+publish %.2f s, peak RSS %d KB",
                outcome.planSeconds, outcome.copySeconds, outcome.publishSeconds, PeakMemory.kilobytes()
            )
        )
    }
}

/// A catalog that stores nothing, for exports straight from a source.
struct NoCatalogStore: CatalogStore {
    func insert(_ record: CatalogRecord) async throws {}
    func record(id: UUID) async throws -> CatalogRecord? { nil }
    func records() async throws -> [CatalogRecord] { [] }
    func delete(id: UUID) async throws -> Bool { false }
}

/// A one-line progress bar on standard error.
struct ProgressBar: Sendable {
    func show(_ percent: Int) {
        let width = 40
        let filled = width * percent / 100
        let line = "\r[" + String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled) + "] \(percent)%"
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        FileHandle.standardError.write(Data("\n".utf8))
    }
}
