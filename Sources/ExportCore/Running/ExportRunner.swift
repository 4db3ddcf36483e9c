import Foundation
import MapDepotCore
import GeoJSON
import Geometry
import GeoPackage
import Logging
import TileGrid

/// Runs one export task to its end: plan, copy tiles into a GeoPackage, checksum, metadata, publish.
///
/// Reads fan out (up to ``Settings/readConcurrency`` batches in flight) and funnel, in plan order, into the one
/// writer, so rows are appended in (zoom, row, column) order and the output is reproducible. The package is
/// built under a staging path and published only when whole; a crash leaves nothing visible, and a restart
/// builds it again from the start.
public struct ExportRunner: Sendable {
    public struct Settings: Sendable {
        /// Read batches in flight at once.
        public var readConcurrency: Int
        /// Tiles per write transaction (at most; a transaction also ends at ``writeBatchBytes``).
        public var writeBatch: Int
        /// Bytes per write transaction at most, so that large tiles do not grow memory.
        public var writeBatchBytes = 32 << 20
        /// Days from completion to `expiredAt` (SPEC "Lifecycle": 30).
        public var expiryDays: Int

        public init(readConcurrency: Int = 8, writeBatch: Int = 2_000, expiryDays: Int = 30) {
            self.readConcurrency = readConcurrency
            self.writeBatch = writeBatch
            self.expiryDays = expiryDays
        }
    }

    /// What one run produced.
    public struct Outcome: Sendable {
        public var artifacts: [Artifact]
        public var tilesWritten: Int
        public var tilesMissing: Int
        /// Wall-clock seconds of each phase, for benchmarks and logs.
        public var planSeconds: Double
        public var copySeconds: Double
        public var publishSeconds: Double
    }

    private let sources: any TileSourceOpener
    private let artifacts: any ArtifactStore
    private let planner: ExportPlanner
    private let settings: Settings

    public init(
        sources: any TileSourceOpener, artifacts: any ArtifactStore, planner: ExportPlanner,
        settings: Settings
    ) {
        self.sources = sources
        self.artifacts = artifacts
        self.planner = planner
        self.settings = settings
    }

    /// Exports `roi` of `record` into artifacts under `folder`.
    /// - Parameters:
    ///   - createdAt: the task's creation time: it names the package and is its `last_change`, so a rerun of
    ///     the same task gives the same bytes.
    ///   - progress: called with 0…100 as tiles are written.
    public func run(
        record: CatalogRecord,
        roi: [ROIFeature],
        folder: String,
        createdAt: Date,
        logger: Logger,
        progress: @Sendable (Int) async -> Void
    ) async throws -> Outcome {
        let clock = ContinuousClock()
        let started = clock.now
        let plan = try planner.plan(record: record, roi: roi)
        let planned = clock.now
        let source = try sources.open(record.source)
        let baseName = [
            record.productType, record.productId, record.productVersion.replacingOccurrences(of: ".", with: "_"),
            String(plan.maxZoom), Timestamp.fileNameComponent(createdAt),
        ].joined(separator: "_")
        let packageName = baseName + ".gpkg"
        let packageKey = Self.key(folder: folder, name: packageName)
        let staging = try artifacts.stagingPath(for: packageKey)
        try? FileManager.default.removeItem(atPath: staging)
        let writer = try GeoPackageTileWriter(
            path: staging,
            options: .init(
                tableName: baseName, contentsBounds: plan.roiBounds, maxZoom: plan.maxZoom, lastChange: createdAt,
                description: record.productName
            )
        )
        let total = plan.tileCount
        logger.info("export started", metadata: ["export.tiles": "\(total)", "export.package": "\(packageName)"])
        let written = try await copyTiles(plan: plan, source: source, writer: writer, total: total, progress: progress)
        try writer.finish()
        let copied = clock.now
        let package = try await artifacts.publish(stagingPath: staging, key: packageKey)

        let metadataName = baseName + ".json"
        let metadataKey = Self.key(folder: folder, name: metadataName)
        let metadataPath = try artifacts.stagingPath(for: metadataKey)
        let metadata = Self.metadata(
            record: record, plan: plan, packageName: packageName, sha256: package.sha256, tiles: written,
            missing: total - written
        )
        try Self.encode(metadata).write(to: URL(fileURLWithPath: metadataPath))
        let metadataFile = try await artifacts.publish(stagingPath: metadataPath, key: metadataKey)
        await progress(100)
        logger.info("export finished", metadata: ["export.written": "\(written)", "export.missing": "\(total - written)"])
        return Outcome(
            artifacts: [
                Artifact(type: .gpkg, name: packageName, size: package.size, key: packageKey, sha256: package.sha256),
                Artifact(
                    type: .metadata, name: metadataName, size: metadataFile.size, key: metadataKey, sha256: metadataFile.sha256
                ),
            ],
            tilesWritten: written,
            tilesMissing: total - written,
            planSeconds: Self.seconds(planned - started),
            copySeconds: Self.seconds(copied - planned),
            publishSeconds: Self.seconds(clock.now - copied)
        )
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// `folder/name`, or `name` alone for an empty folder (the CLI writes straight into its output directory).
    static func key(folder: String, name: String) -> String {
        folder.isEmpty ? name : "\(folder)/\(name)"
    }

    /// One read: a run of columns on one row.
    struct ReadBatch: Sendable {
        var zoom: Int
        var row: Int
        var columns: Range<Int>
    }

    static func batches(_ plan: ExportPlan, maxColumns: Int = 64) -> [ReadBatch] {
        var result: [ReadBatch] = []
        for coverage in plan.zooms {
            for (row, runs) in coverage.sortedRows {
                for run in runs {
                    var start = run.lowerBound
                    while start < run.upperBound {
                        let end = min(run.upperBound, start + maxColumns)
                        result.append(ReadBatch(zoom: coverage.zoom, row: row, columns: start..<end))
                        start = end
                    }
                }
            }
        }
        return result
    }

    /// Reads batches concurrently and writes them in plan order. Returns the tiles written.
    private func copyTiles(
        plan: ExportPlan, source: any TileSource, writer: GeoPackageTileWriter, total: Int,
        progress: @Sendable (Int) async -> Void
    ) async throws -> Int {
        let batches = Self.batches(plan)
        let window = max(1, settings.readConcurrency)
        let writeBatch = settings.writeBatch
        var written = 0
        var processed = 0
        var lastReported = -1
        return try await withThrowingTaskGroup(of: (Int, [(TileCoordinate, Data)], Int).self) { group in
            var next = 0
            func schedule() {
                guard next < batches.count else { return }
                let index = next
                let batch = batches[index]
                next += 1
                group.addTask {
                    let found = try await source.tiles(zoom: batch.zoom, row: batch.row, columns: batch.columns)
                    let tiles = batch.columns.compactMap { column in
                        found[column].map { (TileCoordinate(zoom: batch.zoom, column: column, row: batch.row), $0) }
                    }
                    return (index, tiles, batch.columns.count)
                }
            }
            for _ in 0..<window { schedule() }
            var ready: [Int: ([(TileCoordinate, Data)], Int)] = [:]
            var emit = 0
            var buffer: [(TileCoordinate, Data)] = []
            var bufferBytes = 0
            let writeBatchBytes = settings.writeBatchBytes
            buffer.reserveCapacity(writeBatch)
            while let (index, tiles, planned) = try await group.next() {
                ready[index] = (tiles, planned)
                while let (tiles, planned) = ready.removeValue(forKey: emit) {
                    buffer += tiles
                    bufferBytes += tiles.reduce(0) { $0 + $1.1.count }
                    processed += planned
                    emit += 1
                    if buffer.count >= writeBatch || bufferBytes >= writeBatchBytes {
                        try await writer.append(buffer)
                        written += buffer.count
                        buffer.removeAll(keepingCapacity: true)
                        bufferBytes = 0
                        let percent = total == 0 ? 99 : min(99, processed * 100 / total)
                        if percent != lastReported {
                            lastReported = percent
                            await progress(percent)
                        }
                    }
                }
                schedule()
            }
            try await writer.append(buffer)
            written += buffer.count
            return written
        }
    }
}
