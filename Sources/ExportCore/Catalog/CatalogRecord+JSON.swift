import Foundation
import GeoJSON
import JSONValues
import MapDepotCore

extension TileSourceDescriptor {
    public var json: JSONValue {
        switch self {
        case .directory(let path, let scheme, let format):
            .object([
                "type": .string("directory"), "path": .string(path), "scheme": .string(scheme.rawValue),
                "format": .string(format.rawValue),
            ])
        case .geopackage(let path, let table):
            .object(["type": .string("geopackage"), "path": .string(path), "table": table.map(JSONValue.string) ?? .null])
        case .mbtiles(let path):
            .object(["type": .string("mbtiles"), "path": .string(path)])
        case .tileset(let path):
            .object(["type": .string("3dtiles"), "path": .string(path)])
        case .geotiff(let path):
            .object(["type": .string("geotiff"), "path": .string(path)])
        }
    }

    /// Parses and checks a `source` member.
    public init(json: JSONValue, path: String) throws(ServiceError) {
        let type = try JSONObjectReader(json, path: path, allowed: ["type", "path", "scheme", "format", "table"])
            .requiredString("type")
        switch type {
        case "directory":
            let reader = try JSONObjectReader(json, path: path, allowed: ["type", "path", "scheme", "format"])
            self = .directory(
                path: try reader.requiredString("path"),
                scheme: try reader.oneOf("scheme", RowScheme.self) ?? .xyz,
                format: try reader.oneOf("format", ImageFormat.self) ?? .png
            )
        case "geopackage":
            let reader = try JSONObjectReader(json, path: path, allowed: ["type", "path", "table"])
            self = .geopackage(path: try reader.requiredString("path"), table: try reader.string("table"))
        case "mbtiles":
            let reader = try JSONObjectReader(json, path: path, allowed: ["type", "path"])
            self = .mbtiles(path: try reader.requiredString("path"))
        case "3dtiles":
            let reader = try JSONObjectReader(json, path: path, allowed: ["type", "path"])
            self = .tileset(path: try reader.requiredString("path"))
        case "geotiff":
            let reader = try JSONObjectReader(json, path: path, allowed: ["type", "path"])
            self = .geotiff(path: try reader.requiredString("path"))
        default:
            throw .invalid("\(path).type must be one of \"directory\", \"geopackage\", \"mbtiles\", \"3dtiles\", \"geotiff\", found \"\(type)\"")
        }
    }
}

extension CatalogRecord {
    /// The record as the API shows it and as it is stored.
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "id": .string(id.uuidString.lowercased()),
            "productId": .string(productId),
            "productName": .string(productName),
            "productVersion": .string(productVersion),
            "productType": .string(productType),
            "domain": .string(domain.rawValue),
            "footprint": footprint.json,
            "maxResolutionDeg": .number(maxResolutionDeg),
            "tileOutputFormat": .string(tileOutputFormat.rawValue),
            "transparency": .string(transparency.rawValue),
            "source": source.json,
            "statistics": .array(
                statistics.map {
                    var object: [String: JSONValue] = [
                        "zoom": .number(Double($0.zoom)), "tiles": .number(Double($0.tiles)), "bytes": .number(Double($0.bytes)),
                    ]
                    object["pages"] = $0.pages.map(JSONValue.number)
                    return .object(object)
                }
            ),
            "createdAt": .string(Timestamp.string(createdAt)),
        ]
        object["maxResolutionMeter"] = maxResolutionMeter.map(JSONValue.number) ?? .null
        object["description"] = description.map(JSONValue.string) ?? .null
        if let elevation { object.merge(elevation.members) { $1 } }
        return .object(object)
    }

    /// Reads a stored record back.
    public init(stored json: JSONValue) throws {
        let reader = try JSONObjectReader(
            json, path: "record",
            allowed: Set<String>([
                "id", "productId", "productName", "productVersion", "productType", "domain", "footprint",
                "maxResolutionDeg", "maxResolutionMeter", "tileOutputFormat", "transparency", "description", "source",
                "statistics", "createdAt",
            ]).union(ElevationProperties.memberNames)
        )
        guard let id = UUID(uuidString: try reader.requiredString("id")),
            let createdAt = Timestamp.parse(try reader.requiredString("createdAt")),
            let maxResolutionDeg = try reader.number("maxResolutionDeg")
        else { throw ServiceError.invalid("stored record is damaged") }
        self.init(
            id: id,
            productId: try reader.requiredString("productId"),
            productName: try reader.requiredString("productName"),
            productVersion: try reader.requiredString("productVersion"),
            productType: try reader.requiredString("productType"),
            domain: try reader.oneOf("domain", ProductDomain.self) ?? .raster,
            footprint: try GeoJSONGeometry(json: try reader.required("footprint"), path: "footprint"),
            maxResolutionDeg: maxResolutionDeg,
            maxResolutionMeter: try reader.number("maxResolutionMeter"),
            tileOutputFormat: try reader.oneOf("tileOutputFormat", TileFormat.self) ?? .png,
            transparency: try reader.oneOf("transparency", Transparency.self) ?? .opaque,
            description: try reader.string("description"),
            source: try TileSourceDescriptor(json: try reader.required("source"), path: "source"),
            statistics: (try reader.array("statistics") ?? []).compactMap { item in
                guard let object = item.objectValue, let zoom = object["zoom"]?.numberValue,
                    let tiles = object["tiles"]?.numberValue, let bytes = object["bytes"]?.numberValue
                else { return nil }
                return ZoomStatistics(zoom: Int(zoom), tiles: Int(tiles), bytes: Int(bytes), pages: object["pages"]?.numberValue)
            },
            createdAt: createdAt,
            elevation: try ElevationProperties(stored: reader)
        )
    }
}
