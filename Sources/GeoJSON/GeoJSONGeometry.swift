/// A GeoJSON geometry object (RFC 7946 §3.1). GeometryCollection is not supported: no MapDepot contract uses it.
public enum GeoJSONGeometry: Sendable, Hashable {
    case point(Position)
    case multiPoint([Position])
    case lineString([Position])
    case multiLineString([[Position]])
    case polygon(PolygonCoordinates)
    case multiPolygon([PolygonCoordinates])

    /// The RFC 7946 `type` member.
    public var typeName: String {
        switch self {
        case .point: "Point"
        case .multiPoint: "MultiPoint"
        case .lineString: "LineString"
        case .multiLineString: "MultiLineString"
        case .polygon: "Polygon"
        case .multiPolygon: "MultiPolygon"
        }
    }

    /// The polygons of a Polygon or MultiPolygon; empty for other types.
    public var polygons: [PolygonCoordinates] {
        switch self {
        case .polygon(let polygon): [polygon]
        case .multiPolygon(let polygons): polygons
        default: []
        }
    }
}
