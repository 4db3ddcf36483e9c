import GeoJSON

/// The geometry types of the replica-server contract (`geometryType` enum). Multi* count as their base type.
public enum GeometryType: String, Sendable, Codable, CaseIterable, Comparable {
    case point
    case linestring
    case polygon

    /// The type a GeoJSON geometry belongs to.
    public init(_ geometry: GeoJSONGeometry) {
        switch geometry {
        case .point, .multiPoint: self = .point
        case .lineString, .multiLineString: self = .linestring
        case .polygon, .multiPolygon: self = .polygon
        }
    }

    public static func < (lhs: GeometryType, rhs: GeometryType) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// `snapshot` or `delta` (replica-server `replicaType`).
public enum ReplicaType: String, Sendable, Codable, CaseIterable {
    case snapshot
    case delta
}
