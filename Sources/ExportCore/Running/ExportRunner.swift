import Foundation
import GeoJSON
import GeoPackage
import Geometry
import JSONValues
import Logging
import MapDepotCore
import TileGrid

/// Runs one export to its end: plan, copy tiles into a GeoPackage, checksum, metadata, publish.
///
/// A source that tells its tiles' sizes first (a GeoPackage, an MBTiles file, a directory) takes the bulk path
/// (`ExportRunner+Bulk`): the package is laid out from the sizes and written once, front to back, hashed as it is
/// written. Otherwise reads fan out (up to ``Settings/readConcurrency`` batches in flight) and funnel, in plan order,
/// into SQLite through the one writer. Either way rows are appended in (zoom, row, column) order and the output is
/// reproducible. The package is built under a staging path and published only when whole. After every write the runner
/// reports a checkpoint (batches done, progress, estimated time from the measured rate); the answer may ask it
/// to pause (the staging file is kept and a later run resumes from the checkpoint) or to abort (the staging
/// file is deleted).
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
        /// Failpoints for crash tests.
        public var crashPoints: CrashPoints = .none

        public init(readConcurrency: Int, writeBatch: Int, expiryDays: Int, crashPoints: CrashPoints = .none) {
            self.readConcurrency = readConcurrency
            self.writeBatch = writeBatch
            self.expiryDays = expiryDays
            self.crashPoints = crashPoints
        }
    }

    /// Where a run stands after a write transaction.
    public struct Checkpoint: Sendable {
        public var progress: Int
        public var batchesDone: Int
        public var tilesDone: Int
        /// Seconds left at the rate measured in this run.
        public var estimatedSeconds: Int64
    }

    /// What the caller wants at a checkpoint. `relinquish`: the caller lost the job (another node has it):
    /// stop at once and touch nothing more.
    public enum Decision: Sendable {
        case proceed, pause, abort, relinquish
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

    public enum Result: Sendable {
        case completed(Outcome)
        case paused
        case aborted
        case relinquished
    }

    private let sources: any TileSourceOpener
    let artifacts: any ArtifactStore
    let planner: ExportPlanner
    let settings: Settings
    /// Writes domain 3D's zip; without one, 3D exports fail with a message.
    let archiver: (any DirectoryArchiver)?

    public init(
        sources: any TileSourceOpener, artifacts: any ArtifactStore, planner: ExportPlanner, settings: Settings, archiver: (any DirectoryArchiver)? = nil
    ) {
        self.archiver = archiver
        self.sources = sources
        self.artifacts = artifacts
        self.planner = planner
        self.settings = settings
    }

    /// Exports `roi` of `record` into artifacts under `folder`.
    /// - Parameters:
    ///   - createdAt: the job's creation time: it names the package and is its `last_change`, so a rerun of
    ///     the same job gives the same bytes.
    ///   - resumeFrom: plan batches already written by an earlier run (0 to start afresh).
    ///   - checkpoint: called after every write transaction; its answer can pause or abort the run.
    public func run(
        record: CatalogRecord, roi: [ROIFeature], options: JSONValue? = nil, folder: String, createdAt: Date, resumeFrom: Int = 0, logger: Logger,
        checkpoint: @Sendable (Checkpoint) async -> Decision
    ) async throws -> Result {
        if case .tileset(let path) = record.source {
            return try await runThreeD(record: record, path: path, roi: roi, folder: folder, createdAt: createdAt, logger: logger, checkpoint: checkpoint)
        }
        if record.domain == .dem {
            return try await runDEM(
                record: record, roi: roi, options: options, folder: folder, createdAt: createdAt, logger: logger, checkpoint: checkpoint
            )
        }
        let clock = ContinuousClock()
        let started = clock.now
        let planner = self.planner
        let plan = try await Offload.run { try planner.plan(record: record, roi: roi) }
        let planned = clock.now
        let source = try sources.open(record.source)
        let baseName = [
            record.productType, record.productId, record.productVersion.replacingOccurrences(of: ".", with: "_"),
            String(plan.maxZoom), Timestamp.fileNameComponent(createdAt),
        ].joined(separator: "_")
        let packageName = baseName + ".gpkg"
        let packageKey = Self.key(folder: folder, name: packageName)
        let staging = try artifacts.stagingPath(for: packageKey)
        let options = GeoPackageTileWriter.Options(
            tableName: baseName, contentsBounds: plan.roiBounds, maxZoom: plan.maxZoom, lastChange: createdAt, description: record.productName
        )
        let total = plan.tileCount
        logger.info("export started", metadata: ["export.tiles": "\(total)", "export.package": "\(packageName)"])
        // The bulk path when the source tells sizes first and the package takes more than one page; else through SQLite.
        var copy: CopyOutcome?
        if let reader = source.bulk {
            copy = try await copyInBulk(
                plan: plan, bulk: reader, options: options, staging: staging, firstBatch: resumeFrom, logger: logger, checkpoint: checkpoint
            )
        }
        if copy == nil {
            copy = try await copyThroughSQLite(
                plan: plan, source: source, options: options, staging: staging, resumeFrom: resumeFrom, logger: logger, checkpoint: checkpoint
            )
        }
        guard case .finished(let written, let sha256) = copy else {
            if case .stopped(let stop) = copy {
                if case .aborted = stop { try await artifacts.delete(prefix: folder) }
                return Self.stopped(stop)
            }
            return .relinquished
        }
        let copied = clock.now
        let published = try await publish(staging: staging, type: .gpkg, name: packageName, folder: folder, sha256: sha256) { sha256 in
            Self.metadata(record: record, plan: plan, packageName: packageName, sha256: sha256, tiles: written, missing: total - written)
        }
        logger.info("export finished", metadata: ["export.written": "\(written)", "export.missing": "\(total - written)"])
        return .completed(
            Outcome(
                artifacts: published,
                tilesWritten: written,
                tilesMissing: total - written,
                planSeconds: Self.seconds(planned - started),
                copySeconds: Self.seconds(copied - planned),
                publishSeconds: Self.seconds(clock.now - copied)
            )
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

    enum CopyResult { case finished, paused, aborted, relinquished }

    /// Progress of one run, turned into checkpoints: percent done, batches done, and the time left at the
    /// rate measured since this run started.
    struct RunProgress {
        let total: Int
        let processedBefore: Int
        var processed: Int
        let start = ContinuousClock.now

        func checkpoint(batchesDone: Int) -> Checkpoint {
            let elapsed = ExportRunner.seconds(ContinuousClock.now - start)
            let rate = elapsed > 0 ? Double(processed - processedBefore) / elapsed : 0
            return Checkpoint(
                progress: total == 0 ? 99 : min(99, processed * 100 / total), batchesDone: batchesDone, tilesDone: processed,
                estimatedSeconds: rate > 0 ? Int64((Double(total - processed) / rate).rounded(.up)) : 0
            )
        }
    }

    static func result(_ decision: Decision) -> CopyResult? {
        switch decision {
        case .proceed: nil
        case .pause: .paused
        case .abort: .aborted
        case .relinquish: .relinquished
        }
    }

    /// A stopped copy as the run's result (a copy that finished is never "stopped").
    static func stopped(_ stop: CopyResult) -> Result {
        switch stop {
        case .paused: .paused
        case .aborted: .aborted
        case .relinquished, .finished: .relinquished
        }
    }

    /// The regular path: tiles read concurrently and written through SQLite (``GeoPackageTileWriter``), for sources
    /// that cannot tell sizes first and for packages of one page. A paused or stopped run keeps its staged file.
    private func copyThroughSQLite(
        plan: ExportPlan, source: any TileSource, options: GeoPackageTileWriter.Options, staging: String, resumeFrom: Int, logger: Logger,
        checkpoint: @Sendable (Checkpoint) async -> Decision
    ) async throws -> CopyOutcome {
        var writer: GeoPackageTileWriter?
        var firstBatch = 0
        if resumeFrom > 0, FileManager.default.fileExists(atPath: staging) {
            do {
                writer = try GeoPackageTileWriter(resuming: staging, options: options)
                firstBatch = resumeFrom
                logger.info("export resumes", metadata: ["export.batch": "\(resumeFrom)"])
            } catch {
                logger.warning("staged package cannot be resumed; starting over", metadata: ["error": "\(error)"])
            }
        }
        if writer == nil {
            for suffix in ["", "-journal", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: staging + suffix) }
            writer = try GeoPackageTileWriter(path: staging, options: options)
        }
        let batches = Self.batches(plan)
        let done = batches.prefix(firstBatch).reduce(0) { $0 + $1.columns.count }
        var progress = RunProgress(total: plan.tileCount, processedBefore: done, processed: done)
        let copy = try await copyThroughSwift(batches, source: source, writer: writer!, firstBatch: firstBatch, progress: &progress, checkpoint: checkpoint)
        guard case .finished = copy else {
            try writer!.suspend()
            return .stopped(copy)
        }
        let written = try writer!.tileCount()
        try writer!.finish()
        return .finished(written: written, sha256: nil)
    }

    /// Reads batches concurrently (``Settings/readConcurrency`` in flight) and writes them in plan order.
    private func copyThroughSwift(
        _ batches: [ReadBatch], source: any TileSource, writer: GeoPackageTileWriter, firstBatch: Int,
        progress: inout RunProgress, checkpoint: @Sendable (Checkpoint) async -> Decision
    ) async throws -> CopyResult {
        let window = max(1, settings.readConcurrency)
        let writeBatch = settings.writeBatch
        let writeBatchBytes = settings.writeBatchBytes
        let crashPoints = settings.crashPoints
        var state = progress
        defer { progress = state }
        return try await withThrowingTaskGroup(of: (Int, [(TileCoordinate, Data)], Int).self) { group in
            var next = firstBatch
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
            var emit = firstBatch
            var buffer: [(TileCoordinate, Data)] = []
            var bufferBytes = 0
            var written = 0
            buffer.reserveCapacity(writeBatch)
            /// Writes the buffer and asks the caller whether to go on.
            func flush() async throws -> CopyResult? {
                try await writer.append(buffer)
                written += buffer.count
                crashPoints.check("tiles", reached: written)
                buffer.removeAll(keepingCapacity: true)
                bufferBytes = 0
                return Self.result(await checkpoint(state.checkpoint(batchesDone: emit)))
            }
            while let (index, tiles, planned) = try await group.next() {
                ready[index] = (tiles, planned)
                while let (tiles, planned) = ready.removeValue(forKey: emit) {
                    buffer += tiles
                    bufferBytes += tiles.reduce(0) { $0 + $1.1.count }
                    state.processed += planned
                    emit += 1
                    if buffer.count >= writeBatch || bufferBytes >= writeBatchBytes, let stop = try await flush() {
                        group.cancelAll()
                        return stop
                    }
                }
                schedule()
            }
            return try await flush() ?? .finished
        }
    }
}
