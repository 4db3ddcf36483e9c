import JSONValues
extension Position {
    public var json: JSONValue { .array([.number(longitude), .number(latitude)]) }
}

extension GeoJSONGeometry {
    /// The geometry as a JSON object (RFC 7946 §3.1).
    public var json: JSONValue {
        func line(_ positions: [Position]) -> JSONValue { .array(positions.map(\.json)) }
        func polygon(_ polygon: PolygonCoordinates) -> JSONValue { .array(polygon.rings.map(line)) }
        let coordinates: JSONValue =
            switch self {
            case .point(let position): position.json
            case .multiPoint(let positions): line(positions)
            case .lineString(let positions): line(positions)
            case .multiLineString(let lines): .array(lines.map(line))
            case .polygon(let value): polygon(value)
            case .multiPolygon(let values): .array(values.map(polygon))
            }
        return .object(["type": .string(typeName), "coordinates": coordinates])
    }
}

extension Feature {
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "type": .string("Feature"),
            "geometry": geometry?.json ?? .null,
            "properties": properties.map(JSONValue.object) ?? .null,
        ]
        if let id { object["id"] = id }
        return .object(object)
    }
}

extension FeatureCollection {
    public var json: JSONValue {
        .object(["type": .string("FeatureCollection"), "features": .array(features.map(\.json))])
    }
}
