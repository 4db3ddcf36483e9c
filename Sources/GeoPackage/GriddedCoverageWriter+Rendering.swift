import Geometry
import Raster
import TileGrid

extension GriddedCoverageWriter {
    /// The WorldCRS84Quad tiles at `zoom` that meet the grid (and `within`, when given).
    public static func tiles(of grid: ElevationGrid, zoom: Int, within: BoundingBox? = nil) -> [TileCoordinate] {
        let bounds = grid.bounds
        var box = BoundingBox(minX: bounds.west, minY: bounds.south, maxX: bounds.east, maxY: bounds.north)
        if let within {
            guard box.intersects(within) else { return [] }
            box = BoundingBox(
                minX: max(box.minX, within.minX), minY: max(box.minY, within.minY), maxX: min(box.maxX, within.maxX), maxY: min(box.maxY, within.maxY)
            )
        }
        let range = WorldCRS84Quad.tileRange(zoom: zoom, covering: box)
        return range.rows.flatMap { row in range.columns.map { TileCoordinate(zoom: zoom, column: $0, row: row) } }
    }

    /// One tile sampled from the grid at its cell centres and encoded; nil when it holds no value (such tiles are
    /// not written). Cells outside the source are null.
    public static func render(
        _ grid: ElevationGrid, tile: TileCoordinate, resampling: Resampling, encoding: CoverageEncoding
    ) throws -> (data: [UInt8], statistics: TileStatistics)? {
        let box = WorldCRS84Quad.bounds(zoom: tile.zoom, column: tile.column, row: tile.row)
        let size = WorldCRS84Quad.tileSize
        var values = grid.block(west: box.minX, north: box.maxY, resolution: WorldCRS84Quad.resolution(tile.zoom), size: size, resampling: resampling)
        if case .png16 = encoding { values = values.map { $0.map { $0.rounded() } } }
        guard let statistics = TileStatistics(values) else { return nil }
        return (try encoding.encode(values, size: size), statistics)
    }
}
