import JSONValues
extension Feature {
    /// Decodes and validates a Feature object (RFC 7946 §3.2): `type` "Feature", a `geometry` (or null) and
    /// `properties` (an object or null).
    public init(json: JSONValue, path: String) throws {
        guard let object = json.objectValue else {
            throw GeoJSONError(path: path, reason: "must be a GeoJSON Feature object, found \(json.typeName)")
        }
        guard object["type"]?.stringValue == "Feature" else {
            throw GeoJSONError(path: "\(path).type", reason: "must be \"Feature\"")
        }
        switch object["geometry"] {
        case nil:
            throw GeoJSONError(path: "\(path).geometry", reason: "is missing")
        case .null?:
            geometry = nil
        case let value?:
            geometry = try GeoJSONGeometry(json: value, path: "\(path).geometry")
        }
        switch object["properties"] {
        case nil, .null?:
            properties = nil
        case .object(let value)?:
            properties = value
        case let value?:
            throw GeoJSONError(path: "\(path).properties", reason: "must be an object or null, found \(value.typeName)")
        }
        switch object["id"] {
        case nil: id = nil
        case .string(let value)?: id = .string(value)
        case .number(let value)?: id = .number(value)
        case let value?:
            throw GeoJSONError(path: "\(path).id", reason: "must be a string or a number, found \(value.typeName)")
        }
    }
}

extension FeatureCollection {
    /// Decodes and validates a FeatureCollection object (RFC 7946 §3.3).
    public init(json: JSONValue, path: String) throws {
        guard let object = json.objectValue else {
            throw GeoJSONError(path: path, reason: "must be a GeoJSON FeatureCollection object, found \(json.typeName)")
        }
        guard object["type"]?.stringValue == "FeatureCollection" else {
            throw GeoJSONError(path: "\(path).type", reason: "must be \"FeatureCollection\"")
        }
        guard let features = object["features"]?.arrayValue else {
            throw GeoJSONError(path: "\(path).features", reason: "is missing or not an array")
        }
        self.features = try features.enumerated().map { index, feature in
            try Feature(json: feature, path: "\(path).features[\(index)]")
        }
    }
}
