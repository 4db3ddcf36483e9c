import Geometry

extension Region {
    /// The share of a tile's area the region must overlap for the tile to count as covered.
    ///
    /// A tile that only touches the region along an edge or at a corner holds none of its pixels, so it is
    /// not exported; rounding noise far below a pixel is not overlap either.
    public static let coverageThreshold = 1e-9

    /// The tiles at `zoom` whose squares overlap the region with positive area.
    ///
    /// Exact polygon coverage, not the bounding box: a quadtree over blocks of tiles, each block handed the
    /// region's rings clipped to it, so work follows the region's boundary and whole interior blocks are taken
    /// at once. ``coveringTilesBruteForce(zoom:)`` answers the same question tile by tile.
    public func coveringTiles(zoom: Int) -> ZoomCoverage {
        var coverage = ZoomCoverage(zoom: zoom)
        guard let bounds else { return coverage }
        let range = WorldCRS84Quad.tileRange(zoom: zoom, covering: bounds)
        let tileArea = WorldCRS84Quad.tileSpan(zoom) * WorldCRS84Quad.tileSpan(zoom)
        visit(zoom: zoom, columns: range.columns, rows: range.rows, tileArea: tileArea) { columns, rows in
            for row in rows { coverage.insert(row: row, columns: columns) }
            return true
        }
        return coverage
    }

    /// The number of covered tiles at `zoom`, stopping early once it passes `limit`.
    public func coveringTileCount(zoom: Int, limit: Int = .max) -> Int {
        guard let bounds else { return 0 }
        let range = WorldCRS84Quad.tileRange(zoom: zoom, covering: bounds)
        let tileArea = WorldCRS84Quad.tileSpan(zoom) * WorldCRS84Quad.tileSpan(zoom)
        var count = 0
        visit(zoom: zoom, columns: range.columns, rows: range.rows, tileArea: tileArea) { columns, rows in
            count += columns.count * rows.count
            return count <= limit
        }
        return count
    }

    /// The covered tiles found by testing every tile in the bounding range on its own; for tests.
    public func coveringTilesBruteForce(zoom: Int) -> ZoomCoverage {
        var coverage = ZoomCoverage(zoom: zoom)
        guard let bounds else { return coverage }
        let range = WorldCRS84Quad.tileRange(zoom: zoom, covering: bounds)
        let tileArea = WorldCRS84Quad.tileSpan(zoom) * WorldCRS84Quad.tileSpan(zoom)
        for row in range.rows {
            for column in range.columns
            where area(in: WorldCRS84Quad.bounds(zoom: zoom, column: column, row: row))
                > tileArea * Self.coverageThreshold
            {
                coverage.insert(row: row, columns: column..<(column + 1))
            }
        }
        return coverage
    }

    /// Walks the block, calling `found` with every fully covered block or covered tile, in no set order.
    /// `found` returns false to stop the walk.
    @discardableResult
    private func visit(
        zoom: Int,
        columns: Range<Int>,
        rows: Range<Int>,
        tileArea: Double,
        found: (Range<Int>, Range<Int>) -> Bool
    ) -> Bool {
        let box = WorldCRS84Quad.bounds(zoom: zoom, columns: columns, rows: rows)
        let local = clipped(to: box)
        let covered = local.area
        let threshold = tileArea * Self.coverageThreshold
        if covered <= threshold { return true }
        let blockArea = box.area
        let isSingleTile = columns.count == 1 && rows.count == 1
        // A full block: the area it misses is below one tile's threshold, so every tile in it is covered.
        // (The relative term only absorbs rounding: no grid has 1e14 tiles in a block, so a missing area
        // of blockArea·1e-14 is always less than a tile.)
        if isSingleTile || blockArea - covered <= max(threshold, blockArea * 1e-14) {
            return found(columns, rows)
        }
        let (leftColumns, rightColumns) = split(columns)
        let (topRows, bottomRows) = split(rows)
        for rowPart in [topRows, bottomRows] where !rowPart.isEmpty {
            for columnPart in [leftColumns, rightColumns] where !columnPart.isEmpty {
                if !local.visit(zoom: zoom, columns: columnPart, rows: rowPart, tileArea: tileArea, found: found) {
                    return false
                }
            }
        }
        return true
    }

    private func split(_ range: Range<Int>) -> (Range<Int>, Range<Int>) {
        if range.count == 1 { return (range, range.upperBound..<range.upperBound) }
        let middle = range.lowerBound + range.count / 2
        return (range.lowerBound..<middle, middle..<range.upperBound)
    }
}
