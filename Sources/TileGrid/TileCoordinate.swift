/// One tile of the WorldCRS84Quad grid; `row` counts from the top, as in GeoPackage (OGC 12-128r18 §2.2.6).
public struct TileCoordinate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var zoom: Int
    public var column: Int
    public var row: Int

    public init(zoom: Int, column: Int, row: Int) {
        self.zoom = zoom
        self.column = column
        self.row = row
    }

    /// Ordered by zoom, then row, then column: the order the writer appends in.
    public static func < (lhs: TileCoordinate, rhs: TileCoordinate) -> Bool {
        (lhs.zoom, lhs.row, lhs.column) < (rhs.zoom, rhs.row, rhs.column)
    }

    public var description: String { "\(zoom)/\(column)/\(row)" }
}
