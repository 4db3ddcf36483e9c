import JSONValues
extension GeoJSONGeometry {
    /// Decodes and validates a geometry object.
    ///
    /// Rules (RFC 7946 §3.1): positions are `[lon, lat]` or `[lon, lat, alt]` with lon in [-180, 180] and lat in
    /// [-90, 90]; a LineString has at least two positions; a polygon ring has at least four positions and is
    /// closed. Ring orientation is not enforced on input (§3.1.6 says parsers should not reject it).
    /// - Parameter path: the member's path, used in error messages.
    public init(json: JSONValue, path: String) throws {
        guard let object = json.objectValue else {
            throw GeoJSONError(path: path, reason: "must be a GeoJSON geometry object, found \(json.typeName)")
        }
        guard let type = object["type"]?.stringValue else {
            throw GeoJSONError(path: "\(path).type", reason: "is missing or not a string")
        }
        if type == "GeometryCollection" {
            throw GeoJSONError(path: "\(path).type", reason: "GeometryCollection is not supported")
        }
        guard let coordinates = object["coordinates"] else {
            throw GeoJSONError(path: "\(path).coordinates", reason: "is missing")
        }
        let coordinatesPath = "\(path).coordinates"
        switch type {
        case "Point":
            self = .point(try Self.position(coordinates, path: coordinatesPath))
        case "MultiPoint":
            self = .multiPoint(try Self.positions(coordinates, path: coordinatesPath, minimum: 0, what: "MultiPoint"))
        case "LineString":
            self = .lineString(try Self.positions(coordinates, path: coordinatesPath, minimum: 2, what: "LineString"))
        case "MultiLineString":
            let lines = try Self.array(coordinates, path: coordinatesPath)
            self = .multiLineString(
                try lines.enumerated().map { index, line in
                    try Self.positions(line, path: "\(coordinatesPath)[\(index)]", minimum: 2, what: "LineString")
                }
            )
        case "Polygon":
            self = .polygon(try Self.polygon(coordinates, path: coordinatesPath))
        case "MultiPolygon":
            let polygons = try Self.array(coordinates, path: coordinatesPath)
            guard !polygons.isEmpty else {
                throw GeoJSONError(path: coordinatesPath, reason: "a MultiPolygon needs at least one polygon")
            }
            self = .multiPolygon(
                try polygons.enumerated().map { index, polygon in
                    try Self.polygon(polygon, path: "\(coordinatesPath)[\(index)]")
                }
            )
        default:
            throw GeoJSONError(path: "\(path).type", reason: "\"\(type)\" is not a GeoJSON geometry type")
        }
    }

    private static func array(_ json: JSONValue, path: String) throws -> [JSONValue] {
        guard let array = json.arrayValue else {
            throw GeoJSONError(path: path, reason: "must be an array, found \(json.typeName)")
        }
        return array
    }

    private static func position(_ json: JSONValue, path: String) throws -> Position {
        let values = try array(json, path: path)
        guard values.count == 2 || values.count == 3 else {
            throw GeoJSONError(path: path, reason: "a position needs 2 or 3 numbers, found \(values.count)")
        }
        guard let longitude = values[0].numberValue, let latitude = values[1].numberValue,
            values.count == 2 || values[2].numberValue != nil
        else {
            throw GeoJSONError(path: path, reason: "a position holds numbers only")
        }
        guard longitude.isFinite, (-180...180).contains(longitude) else {
            throw GeoJSONError(path: path, reason: "longitude \(longitude) is outside [-180, 180]")
        }
        guard latitude.isFinite, (-90...90).contains(latitude) else {
            throw GeoJSONError(path: path, reason: "latitude \(latitude) is outside [-90, 90]")
        }
        return Position(longitude, latitude)
    }

    private static func positions(_ json: JSONValue, path: String, minimum: Int, what: String) throws -> [Position] {
        let values = try array(json, path: path)
        guard values.count >= minimum else {
            throw GeoJSONError(path: path, reason: "a \(what) needs at least \(minimum) positions, found \(values.count)")
        }
        return try values.enumerated().map { index, value in try position(value, path: "\(path)[\(index)]") }
    }

    private static func polygon(_ json: JSONValue, path: String) throws -> PolygonCoordinates {
        let rings = try array(json, path: path)
        guard !rings.isEmpty else {
            throw GeoJSONError(path: path, reason: "a polygon needs at least an exterior ring")
        }
        return PolygonCoordinates(
            rings: try rings.enumerated().map { index, ring in
                let ringPath = "\(path)[\(index)]"
                let positions = try positions(ring, path: ringPath, minimum: 0, what: "ring")
                guard positions.count >= 4 else {
                    throw GeoJSONError(
                        path: ringPath,
                        reason: "a linear ring needs at least 4 positions, found \(positions.count)"
                    )
                }
                guard positions.first == positions.last else {
                    throw GeoJSONError(path: ringPath, reason: "the ring is not closed (the last position must equal the first)")
                }
                return positions
            }
        )
    }
}
