/// The tiles of one zoom level, as sorted, disjoint, non-adjacent column ranges per row.
///
/// Runs rather than tiles keep a million-tile plan in a few kilobytes, and make the union of several ROI
/// features (a tile is written once) a merge of sorted ranges.
public struct ZoomCoverage: Sendable, Equatable {
    public let zoom: Int
    /// row → sorted, disjoint column runs (half-open).
    public private(set) var rows: [Int: [Range<Int>]] = [:]

    public init(zoom: Int) {
        self.zoom = zoom
    }

    public var tileCount: Int {
        rows.values.reduce(0) { total, runs in runs.reduce(total) { $0 + $1.count } }
    }

    public var isEmpty: Bool { rows.isEmpty }

    /// Adds a run of columns on `row`, merging with what is there.
    public mutating func insert(row: Int, columns: Range<Int>) {
        guard !columns.isEmpty else { return }
        var runs = rows[row] ?? []
        var merged = columns
        var result: [Range<Int>] = []
        result.reserveCapacity(runs.count + 1)
        for run in runs {
            if run.upperBound < merged.lowerBound || merged.upperBound < run.lowerBound {
                result.append(run)
            } else {
                merged = min(run.lowerBound, merged.lowerBound)..<max(run.upperBound, merged.upperBound)
            }
        }
        let position = result.firstIndex { $0.lowerBound > merged.lowerBound } ?? result.endIndex
        result.insert(merged, at: position)
        runs = result
        rows[row] = runs
    }

    /// Adds every tile of another coverage of the same zoom.
    public mutating func formUnion(_ other: ZoomCoverage) {
        precondition(other.zoom == zoom, "coverages of different zooms")
        for (row, runs) in other.rows {
            for run in runs { insert(row: row, columns: run) }
        }
    }

    /// Whether the tile is covered.
    public func contains(column: Int, row: Int) -> Bool {
        rows[row]?.contains { $0.contains(column) } ?? false
    }

    /// Rows in ascending order, each with its runs.
    public var sortedRows: [(row: Int, runs: [Range<Int>])] {
        rows.keys.sorted().map { ($0, rows[$0] ?? []) }
    }

    /// Every tile, row by row from the top, left to right.
    public var tiles: [TileCoordinate] {
        sortedRows.flatMap { row, runs in
            runs.flatMap { run in run.map { TileCoordinate(zoom: zoom, column: $0, row: row) } }
        }
    }
}
