import JSONValues
/// A GeoJSON Feature (RFC 7946 §3.2).
public struct Feature: Sendable, Hashable {
    /// The `id` member: a string or a number, kept as JSON.
    public var id: JSONValue?
    public var geometry: GeoJSONGeometry?
    public var properties: [String: JSONValue]?

    public init(id: JSONValue? = nil, geometry: GeoJSONGeometry?, properties: [String: JSONValue]? = nil) {
        self.id = id
        self.geometry = geometry
        self.properties = properties
    }
}

/// A GeoJSON FeatureCollection (RFC 7946 §3.3).
public struct FeatureCollection: Sendable, Hashable {
    public var features: [Feature]

    public init(features: [Feature]) {
        self.features = features
    }
}
