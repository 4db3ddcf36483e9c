import Foundation
import GeoPackage
import Logging
import MapDepotCore
import TileGrid

/// The bulk path of a raster export (issue #15): for a source that tells its tiles' sizes before reading them, the
/// package is laid out first (``GeoPackageBulkLayout``) and then written once, front to back, hashed as it is written.
///
/// Two passes over the source: the sizes (SQLite reads them from the records' headers), then the tiles, read straight
/// into their pages. While one chunk of pages is read, the one before is hashed and written on two other threads.
/// A checkpoint follows each chunk written. A resumed run lays the package out again (the same input gives the same
/// layout), keeps the staged file up to the leaf its checkpoint names, and hashes those bytes again; a staged file
/// whose first pages differ from the new layout's is started over.
extension ExportRunner {
    /// How a copy into the staged package ended: finished (with the file's SHA-256 when it was hashed while written),
    /// or stopped at a checkpoint.
    enum CopyOutcome {
        case finished(written: Int, sha256: String?)
        case stopped(CopyResult)
    }

    /// Runs the bulk path; nil when the tiles fit on one page (the regular path writes those).
    func copyInBulk(
        plan: ExportPlan, bulk: any BulkTileReading, options: GeoPackageTileWriter.Options, staging: String, firstBatch: Int, logger: Logger,
        checkpoint: @Sendable (Checkpoint) async -> Decision
    ) async throws -> CopyOutcome? {
        let batches = Self.batches(plan)
        let found = try await bulk.sizes(of: batches.map { ($0.zoom, $0.row, $0.columns) })
        var coordinates: [TileCoordinate] = []
        var sizes: [Int] = []
        // Per batch: tiles present and tiles planned before it.
        var tilesBefore: [Int] = [0]
        var plannedBefore: [Int] = [0]
        tilesBefore.reserveCapacity(batches.count + 1)
        plannedBefore.reserveCapacity(batches.count + 1)
        for (batch, present) in zip(batches, found) {
            for (column, size) in present {
                coordinates.append(TileCoordinate(zoom: batch.zoom, column: column, row: batch.row))
                sizes.append(size)
            }
            tilesBefore.append(coordinates.count)
            plannedBefore.append(plannedBefore.last! + batch.columns.count)
        }
        let rows = coordinates.count
        let prepared = try await Offload.run { [coordinates, sizes] in
            let template = try GeoPackageBulkWriter.template(options: options, rows: rows, scratch: staging + ".template")
            return GeoPackageBulkWriter(template: template, coordinates: coordinates, sizes: sizes)
        }
        guard let writer = prepared else { return nil }
        let layout = writer.layout

        // Where to start: a checkpoint's batch maps to the leaf holding its first tile.
        var startLeaf = 0
        if firstBatch > 0, firstBatch < tilesBefore.count {
            let leaf = layout.leaf(containing: tilesBefore[firstBatch])
            if try await Self.stagedPrefixMatches(staging, prefix: writer.prefix, through: layout.offset(ofLeaf: leaf)) {
                startLeaf = leaf
                logger.info("export resumes", metadata: ["export.batch": "\(firstBatch)", "export.leaf": "\(leaf)"])
            } else {
                logger.warning("staged package does not match the export's layout; starting over")
            }
        }
        let kept = startLeaf == 0 ? 0 : layout.offset(ofLeaf: startLeaf)
        let file = try await Offload.run { try HashingFile(path: staging, keeping: kept) }
        var closed = false
        defer { if !closed { file.abandon() } }
        if startLeaf == 0 { try await file.append(AlignedPages(copying: writer.prefix)) }

        /// Batches whose tiles all lie before leaf `leaf`.
        func batchesDone(before leaf: Int) -> Int {
            let tiles = leaf < layout.leaves.count ? layout.leaves[leaf].tiles.lowerBound : rows
            var low = 0
            var high = batches.count
            while low < high {
                let middle = (low + high + 1) / 2
                if tilesBefore[middle] <= tiles { low = middle } else { high = middle - 1 }
            }
            return leaf < layout.leaves.count ? low : batches.count
        }
        /// The leaves of the chunk starting at `leaf`: up to the batch's tiles or bytes, and at least far enough that more
        /// than `done` batches are whole after it (a plan batch can span leaves): every checkpoint moves the resume point on,
        /// so an export paused at each of its checkpoints still ends.
        func chunk(from leaf: Int, past done: Int) -> Range<Int> {
            var end = leaf
            var tiles = 0
            var bytes = 0
            repeat {
                tiles += layout.leaves[end].tiles.count
                bytes += layout.leaves[end].pages * 65_536
                end += 1
            } while end < layout.leaves.count
                && ((tiles < settings.writeBatch && bytes < settings.writeBatchBytes) || batchesDone(before: end) <= done)
            return leaf..<end
        }

        let startDone = batchesDone(before: startLeaf)
        var progress = RunProgress(total: plan.tileCount, processedBefore: plannedBefore[startDone], processed: plannedBefore[startDone])
        // A run stopped after its last chunk's checkpoint resumes past every leaf: only the tail is left to write.
        if startLeaf < layout.leaves.count {
            var range = chunk(from: startLeaf, past: max(startDone, startLeaf == 0 ? 0 : firstBatch))
            let pool = PagePool()
            var pages = try await bulk.leafPages(range, of: layout, pool: pool)
            while true {
                let chunkPages = pages
                async let written: Void = file.append(chunkPages)
                let next = range.upperBound < layout.leaves.count ? chunk(from: range.upperBound, past: batchesDone(before: range.upperBound)) : nil
                var following: AlignedPages?
                if let next { following = try await bulk.leafPages(next, of: layout, pool: pool) }
                try await written
                pool.recycle(chunkPages)
                let done = batchesDone(before: range.upperBound)
                settings.crashPoints.check("tiles", reached: range.upperBound < layout.leaves.count ? layout.leaves[range.upperBound].tiles.lowerBound : rows)
                progress.processed = plannedBefore[done]
                if let stop = Self.result(await checkpoint(progress.checkpoint(batchesDone: done))) { return .stopped(stop) }
                guard let next, let following else { break }
                range = next
                pages = following
            }
        }
        try await file.append(AlignedPages(copying: writer.tail()))
        closed = true
        return .finished(written: rows, sha256: try await file.finish())
    }

    /// The staged file holds at least `through` bytes and starts with `prefix` (the template with this layout's roots
    /// and page count, so a different layout shows there).
    static func stagedPrefixMatches(_ path: String, prefix: [UInt8], through offset: Int) async throws -> Bool {
        try await Offload.run {
            guard let handle = FileHandle(forReadingAtPath: path) else { return false }
            defer { try? handle.close() }
            guard let size = try? handle.seekToEnd(), size >= UInt64(offset) else { return false }
            try handle.seek(toOffset: 0)
            return try handle.read(upToCount: prefix.count).map { [UInt8]($0) == prefix } ?? false
        }
    }
}

/// A source that can tell its tiles' sizes before reading them, so that an export writes its package front to back.
public protocol BulkTileReading: Sendable {
    /// The sizes of the tiles present in each run of columns, in column order.
    func sizes(of runs: [(zoom: Int, row: Int, columns: Range<Int>)]) async throws -> [[(column: Int, size: Int)]]
    /// The pages of `leaves` of `layout`, with their tiles' bytes in them (``GeoPackageLeafEncoder``), in a buffer from `pool`.
    func leafPages(_ leaves: Range<Int>, of layout: GeoPackageBulkLayout, pool: PagePool) async throws -> AlignedPages
}

extension GeoPackageTileReader: BulkTileReading {}
