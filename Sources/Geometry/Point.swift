/// A point in the lon/lat plane. Planar math on WGS84 degrees is what the WorldCRS84Quad grid is defined in,
/// so no projection is involved anywhere in coverage computations.
public struct Point: Sendable, Hashable {
    public var x: Double
    public var y: Double

    public init(_ x: Double, _ y: Double) {
        self.x = x
        self.y = y
    }
}
