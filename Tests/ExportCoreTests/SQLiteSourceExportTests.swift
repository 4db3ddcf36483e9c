import ExportCore
import FileStorage
import Foundation
import GeoJSON
import Geometry
import GeoPackage
import GRDB
import Logging
import MapDepotCore
import Synchronization
import Testing
import TestSupport
import TileGrid
import TileSources

/// Exports from GeoPackage and MBTiles sources (the in-SQLite copy path), checked tile by tile, with a pause
/// and a resume in the middle.
@Suite struct SQLiteSourceExportTests {
    /// Blue Marble zoom 0–3 as a GeoPackage source and as an MBTiles source (rows from the bottom).
    static func sources(in directory: String) async throws -> (gpkg: String, mbtiles: String, tiles: [TileCoordinate: Data]) {
        let pyramid = try await Fixtures.blueMarblePyramid()
        var tiles: [TileCoordinate: Data] = [:]
        for zoom in 0...3 {
            for row in 0..<WorldCRS84Quad.matrixHeight(zoom) {
                for column in 0..<WorldCRS84Quad.matrixWidth(zoom) {
                    tiles[TileCoordinate(zoom: zoom, column: column, row: row)] = try Data(
                        contentsOf: URL(fileURLWithPath: "\(pyramid)/\(zoom)/\(column)/\(row).png")
                    )
                }
            }
        }
        let gpkg = directory + "/source.gpkg"
        let writer = try GeoPackageTileWriter(
            path: gpkg, options: .init(tableName: "bm", contentsBounds: BoundingBox(minX: -180, minY: -90, maxX: 180, maxY: 90), maxZoom: 3, lastChange: Date())
        )
        try await writer.append(tiles.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        try writer.finish()
        let mbtiles = directory + "/source.mbtiles"
        let queue = try DatabaseQueue(path: mbtiles)
        let all = tiles
        try await queue.write { db in
            try db.execute(sql: "CREATE TABLE metadata (name TEXT, value TEXT); CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
            for (tile, data) in all {
                try db.execute(
                    sql: "INSERT INTO tiles VALUES (?, ?, ?, ?)",
                    arguments: [tile.zoom, tile.column, WorldCRS84Quad.matrixHeight(tile.zoom) - 1 - tile.row, data]
                )
            }
        }
        try queue.close()
        return (gpkg, mbtiles, tiles)
    }

    @Test func geoPackageAndMBTilesSourcesExportExactlyTheirTiles() async throws {
        let directory = try Fixtures.temporaryDirectory("sqlite-source")
        let (gpkg, mbtiles, tiles) = try await Self.sources(in: directory)
        let catalog = CatalogService(store: NoStore(), sources: LocalTileSourceOpener(), clock: SystemClock())
        let france = try Fixtures.country("France").geometry!.polygons
        for (index, source) in [TileSourceDescriptor.geopackage(path: gpkg, table: nil), .mbtiles(path: mbtiles)].enumerated() {
            let record = try await catalog.describe(CatalogRecordDraft(productId: "bm\(index)", productName: "bm", source: source))
            #expect(record.maxResolutionDeg == WorldCRS84Quad.resolution(3))
            let artifacts = try DirectoryArtifactStore(root: directory + "/out\(index)")
            let runner = ExportRunner(
                sources: LocalTileSourceOpener(), artifacts: artifacts, planner: ExportPlanner(maxTiles: 10_000_000, tilesPerSecond: 5_000), settings: .init(readConcurrency: 8, writeBatch: 5, expiryDays: 30)
            )
            let roi = [ROIFeature(polygons: france)]
            // First run: pause at the second checkpoint.
            let calls = Counter()
            let first = try await runner.run(record: record, roi: roi, folder: "job", createdAt: Date(timeIntervalSince1970: 0), logger: Logger(label: "t")) { point in
                calls.increment() >= 2 ? .pause : .proceed
            }
            guard case .paused = first else {
                Issue.record("expected a pause")
                continue
            }
            let resumed = try await runner.run(
                record: record, roi: roi, folder: "job", createdAt: Date(timeIntervalSince1970: 0), resumeFrom: 2, logger: Logger(label: "t")
            ) { _ in .proceed }
            guard case .completed(let outcome) = resumed else {
                Issue.record("expected completion")
                continue
            }
            let package = try #require(artifacts.localPath(for: outcome.artifacts[0].key))
            #expect(try await GDAL.validate(package) == "")
            let digests = try await GDAL.tileDigests(package, table: String(outcome.artifacts[0].name.dropLast(5)))
            let region = Region(polygons: france)
            var expected: [String: String] = [:]
            for zoom in 0...3 {
                for tile in region.coveringTilesBruteForce(zoom: zoom).tiles {
                    expected["\(zoom)/\(tile.column)/\(tile.row)"] = sha256Hex(tiles[tile]!)
                }
            }
            #expect(digests == expected, "\(source)")
            #expect(outcome.tilesWritten == expected.count && outcome.tilesMissing == 0)
            // The bulk path hashes as it writes, the kept part of a resumed file read back: the listed SHA-256 is the
            // file's, and a run without the pause gives the same bytes.
            #expect(outcome.artifacts[0].sha256 == sha256Hex(try Data(contentsOf: URL(fileURLWithPath: package))))
            let straight = try await runner.run(
                record: record, roi: roi, folder: "again", createdAt: Date(timeIntervalSince1970: 0), logger: Logger(label: "t")
            ) { _ in .proceed }
            guard case .completed(let again) = straight else {
                Issue.record("expected completion")
                continue
            }
            #expect(again.artifacts[0].sha256 == outcome.artifacts[0].sha256, "\(source)")
        }
    }
}

extension SQLiteSourceExportTests {
    /// An export stopped at every one of its checkpoints and resumed from each (the last one past every leaf, with only
    /// the package's tail left to write) ends with the same bytes as one that ran straight through.
    @Test func anExportPausedAtEveryCheckpointEndsAsOneThatWasNot() async throws {
        let directory = try Fixtures.temporaryDirectory("sqlite-source-pauses")
        let (gpkg, _, _) = try await Self.sources(in: directory)
        let catalog = CatalogService(store: NoStore(), sources: LocalTileSourceOpener(), clock: SystemClock())
        let record = try await catalog.describe(CatalogRecordDraft(productId: "bm", productName: "bm", source: .geopackage(path: gpkg, table: nil)))
        let artifacts = try DirectoryArtifactStore(root: directory + "/out")
        let runner = ExportRunner(
            sources: LocalTileSourceOpener(), artifacts: artifacts, planner: ExportPlanner(maxTiles: 10_000_000, tilesPerSecond: 5_000),
            settings: .init(readConcurrency: 8, writeBatch: 1, expiryDays: 30)
        )
        let roi = [ROIFeature(polygons: try Fixtures.country("France").geometry!.polygons)]
        let straight = try await runner.run(record: record, roi: roi, folder: "straight", createdAt: Date(timeIntervalSince1970: 0), logger: Logger(label: "t")) { _ in .proceed }
        guard case .completed(let expected) = straight else {
            Issue.record("expected completion")
            return
        }
        var resumeFrom = 0
        var runs = 0
        while runs < 100 {
            runs += 1
            let reached = Mutex(resumeFrom)
            let result = try await runner.run(
                record: record, roi: roi, folder: "paused", createdAt: Date(timeIntervalSince1970: 0), resumeFrom: resumeFrom, logger: Logger(label: "t")
            ) { point in
                reached.withLock { $0 = point.batchesDone }
                return .pause
            }
            if case .completed(let outcome) = result {
                #expect(outcome.artifacts[0].sha256 == expected.artifacts[0].sha256)
                #expect(runs > 3)
                return
            }
            guard case .paused = result else {
                Issue.record("expected a pause: \(result)")
                return
            }
            resumeFrom = reached.withLock { $0 }
        }
        Issue.record("the export did not finish in 100 runs")
    }
}

final class Counter: Sendable {
    private let value = Mutex(0)
    func increment() -> Int { value.withLock { $0 += 1; return $0 } }
}

struct NoStore: CatalogStore {
    func insert(_ record: CatalogRecord) async throws {}
    func record(id: UUID) async throws -> CatalogRecord? { nil }
    func records() async throws -> [CatalogRecord] { [] }
    func delete(id: UUID) async throws -> Bool { false }
}
