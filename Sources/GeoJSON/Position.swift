/// A WGS84 position, longitude first (RFC 7946 §3.1.1).
public struct Position: Sendable, Hashable {
    public var longitude: Double
    public var latitude: Double

    public init(_ longitude: Double, _ latitude: Double) {
        self.longitude = longitude
        self.latitude = latitude
    }
}

/// A polygon's coordinates: the exterior ring first, then holes (RFC 7946 §3.1.6).
/// Rings are closed: the last position repeats the first.
public struct PolygonCoordinates: Sendable, Hashable {
    public var rings: [[Position]]

    public init(rings: [[Position]]) {
        self.rings = rings
    }

    public var exterior: [Position] { rings.first ?? [] }
    public var holes: ArraySlice<[Position]> { rings.dropFirst() }
}
