import Foundation
import GeoJSON
import GeoPackage
import Geometry
import JSONValues
import Logging
import MapDepotCore
import Raster
import TileGrid

extension ExportRunner {
    /// Domain DEM (issue #13): the ROI's tiles at the options' zoom, sampled from the GeoTIFF, into a GeoPackage 2D
    /// gridded coverage, with a METADATA JSON (elevation range, units, datum, nodata). The same exact-coverage plan as
    /// RASTER picks the tiles; a tile holding no value is not written; cells outside the source are null. A run starts
    /// over after a pause or a kill (there is no checkpoint to resume from yet).
    func runDEM(
        record: CatalogRecord, roi: [ROIFeature], options json: JSONValue?, folder: String, createdAt: Date, logger: Logger,
        checkpoint: @Sendable (Checkpoint) async -> Decision
    ) async throws -> Result {
        let clock = ContinuousClock()
        let started = clock.now
        let options = try DEMOptions(parameters: json, record: record)
        let elevation = record.elevation
        let source = try DEMSource(record.source)
        // Reading the source and scanning its values for the encoding are CPU work: off the cooperative pool.
        let (grid, chosen) = try await Offload.run {
            let grid = try source.grid(noDataValue: elevation?.noDataValue)
            return (grid, options.encoding(for: grid, noDataValue: elevation?.noDataValue))
        }
        guard let encoding = chosen else {
            throw ServiceError.invalid("the DEM's values do not fit INT16 beside its nodata; export it as FLOAT32")
        }
        let planner = self.planner
        let single = options.roi(roi)
        let plan = try await Offload.run { try planner.plan(record: record, roi: single) }
        let tiles = plan.zooms.filter { $0.zoom == options.zoom }.flatMap { coverage in
            coverage.sortedRows.flatMap { row, runs in runs.flatMap { run in run.map { TileCoordinate(zoom: options.zoom, column: $0, row: row) } } }
        }
        let planned = clock.now
        let baseName = [record.productType, record.productId, record.productVersion.replacingOccurrences(of: ".", with: "_"), String(options.zoom),
            Timestamp.fileNameComponent(createdAt)].joined(separator: "_")
        let packageName = baseName + ".gpkg"
        let packageKey = Self.key(folder: folder, name: packageName)
        let staging = try artifacts.stagingPath(for: packageKey)
        for suffix in ["", "-journal", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: staging + suffix) }
        let writer = try GriddedCoverageWriter(
            path: staging,
            options: .init(
                tableName: baseName, contentsBounds: plan.productBounds, maxZoom: options.zoom, lastChange: createdAt, description: record.productName,
                encoding: encoding, uom: elevation?.units ?? "m"
            )
        )
        var progress = RunProgress(total: tiles.count, processedBefore: 0, processed: 0)
        var low = Double.infinity
        var high = -Double.infinity
        var written = 0
        let batchSize = 16
        for start in stride(from: 0, to: tiles.count, by: batchSize) {
            let batch = Array(tiles[start..<min(start + batchSize, tiles.count)])
            let resampling = options.resampling
            let rendered = try await Offload.run {
                try batch.compactMap { tile in
                    try GriddedCoverageWriter.render(grid, tile: tile, resampling: resampling, encoding: encoding).map { (tile, $0.data, $0.statistics) }
                }
            }
            try await writer.append(rendered)
            for item in rendered {
                low = min(low, item.2.min)
                high = max(high, item.2.max)
            }
            written += rendered.count
            progress.processed += batch.count
            if let stop = Self.result(await checkpoint(progress.checkpoint(batchesDone: 0))) {
                try writer.finish()
                if stop == .aborted { try await artifacts.delete(prefix: folder) }
                return switch stop {
                case .paused: .paused
                case .aborted: .aborted
                default: .relinquished
                }
            }
        }
        try writer.finish()
        let copied = clock.now
        let published = try await publish(staging: staging, type: .gpkg, name: packageName, folder: folder) { sha256 in
            guard case .object(var object) = Self.metadata(record: record, plan: plan, packageName: packageName, sha256: sha256, tiles: written, missing: 0)
            else { return .null }
            object["type"] = .string("RECORD_DEM")
            object["dataType"] = .string(options.dataType.rawValue)
            object["resampleMethod"] = .string(options.resampling.rawValue)
            object["units"] = .string(elevation?.units ?? "m")
            object["verticalDatum"] = elevation?.verticalDatum.map(JSONValue.string) ?? .null
            object["noDataValue"] = elevation?.noDataValue.map(JSONValue.number) ?? .null
            object["minElevation"] = low.isFinite ? .number(low) : .null
            object["maxElevation"] = high.isFinite ? .number(high) : .null
            object["coverage"] = .string("2d-gridded-coverage")
            return .object(object)
        }
        logger.info("DEM export finished", metadata: ["export.tiles": "\(written)", "export.zoom": "\(options.zoom)"])
        return .completed(
            Outcome(
                artifacts: published,
                tilesWritten: written, tilesMissing: tiles.count - written, planSeconds: Self.seconds(planned - started),
                copySeconds: Self.seconds(copied - planned), publishSeconds: Self.seconds(clock.now - copied)
            )
        )
    }
}
