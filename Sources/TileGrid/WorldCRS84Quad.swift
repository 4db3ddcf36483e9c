import Foundation
import Geometry

/// The WorldCRS84Quad tile matrix set (OGC 17-083r2 Annex D.2; MapColonies "InspireCRS84Quad"): EPSG:4326,
/// 256×256 tiles, 2×1 tiles at zoom 0 covering (-180, -90, 180, 90), rows counted from the top.
public enum WorldCRS84Quad {
    public static let tileSize = 256
    public static let maxZoom = 22
    /// Degrees per pixel at zoom 0.
    public static let zoomZeroResolution = 0.703125

    /// Tile columns at `zoom` (2^(z+1)).
    public static func matrixWidth(_ zoom: Int) -> Int { 2 << zoom }
    /// Tile rows at `zoom` (2^z).
    public static func matrixHeight(_ zoom: Int) -> Int { 1 << zoom }
    /// Degrees spanned by one tile at `zoom` (180 / 2^z).
    public static func tileSpan(_ zoom: Int) -> Double { 180.0 / Double(1 << zoom) }
    /// Degrees per pixel at `zoom` (0.703125 / 2^z).
    public static func resolution(_ zoom: Int) -> Double { zoomZeroResolution / Double(1 << zoom) }

    /// The zoom whose pixel size is `resolutionDeg`: floor(log2(0.703125 / res)), the MapColonies rule
    /// (mc-utils `degreesPerPixelToZoomLevel`). A tiny epsilon absorbs the rounding of values such as
    /// 0.703125 / 2^k written in decimal.
    ///
    /// Total, because its input is a client's number (issue #9: `1e-320` trapped the server): the answer is
    /// clamped to `-1...maxZoom + 1`, so anything coarser than zoom 0 reads as -1 and anything finer than zoom 22 as
    /// 23, which every caller refuses as outside 0–22. Zero, negative and non-finite resolutions read as 23 too.
    public static func zoom(forResolution resolutionDeg: Double) -> Int {
        guard resolutionDeg > 0, resolutionDeg.isFinite else { return maxZoom + 1 }
        let exact = log2(zoomZeroResolution / resolutionDeg) + 1e-9
        guard exact.isFinite else { return maxZoom + 1 }
        return Int(min(Double(maxZoom + 1), max(-1, floor(exact))))
    }

    /// The bounds of tile (column, row) at `zoom`.
    public static func bounds(zoom: Int, column: Int, row: Int) -> BoundingBox {
        let span = tileSpan(zoom)
        return BoundingBox(
            minX: -180 + Double(column) * span,
            minY: 90 - Double(row + 1) * span,
            maxX: -180 + Double(column + 1) * span,
            maxY: 90 - Double(row) * span
        )
    }

    /// The bounds of the block of tiles columns × rows (half-open ranges).
    public static func bounds(zoom: Int, columns: Range<Int>, rows: Range<Int>) -> BoundingBox {
        let span = tileSpan(zoom)
        return BoundingBox(
            minX: -180 + Double(columns.lowerBound) * span,
            minY: 90 - Double(rows.upperBound) * span,
            maxX: -180 + Double(columns.upperBound) * span,
            maxY: 90 - Double(rows.lowerBound) * span
        )
    }

    /// The tiles whose squares meet `box` (closed), as half-open column and row ranges, clamped to the grid.
    public static func tileRange(zoom: Int, covering box: BoundingBox) -> (columns: Range<Int>, rows: Range<Int>) {
        let span = tileSpan(zoom)
        let width = matrixWidth(zoom)
        let height = matrixHeight(zoom)
        let minColumn = max(0, min(width - 1, Int(floor((box.minX + 180) / span))))
        let maxColumn = max(0, min(width - 1, Int(floor((box.maxX + 180) / span))))
        let minRow = max(0, min(height - 1, Int(floor((90 - box.maxY) / span))))
        let maxRow = max(0, min(height - 1, Int(floor((90 - box.minY) / span))))
        return (minColumn..<(maxColumn + 1), minRow..<(maxRow + 1))
    }
}
