import Foundation
import JSONValues
import ThreeDTiles

/// A hand-made 3D Tiles tileset (issue #13): regions, a box in an east-north-up frame (a transform) with a child box,
/// and a tile whose content is an external tileset; content files are a few bytes each.
public enum TilesetFixtures {
    /// Radians of a degree.
    public static let r = Double.pi / 180

    public static func region(_ west: Double, _ south: Double, _ east: Double, _ north: Double) -> JSONValue {
        .object(["region": .array([west * r, south * r, east * r, north * r, 0, 100].map(JSONValue.number))])
    }

    /// An east-north-up frame at a place (its column-major transform) and a box of `half` metres around it.
    public static func frame(longitude: Double, latitude: Double) -> [Double] {
        let lon = longitude * r
        let lat = latitude * r
        let east = [-sin(lon), cos(lon), 0.0]
        let north = [-sin(lat) * cos(lon), -sin(lat) * sin(lon), cos(lat)]
        let up = [cos(lat) * cos(lon), cos(lat) * sin(lon), sin(lat)]
        let origin = Geodetic.ecef(longitude: longitude, latitude: latitude, height: 0)
        return east + [0] + north + [0] + up + [0] + [origin.x, origin.y, origin.z, 1]
    }

    public static func box(half: Double) -> JSONValue {
        .object(["box": .array([0, 0, 0, half, 0, 0, 0, half, 0, 0, 0, half].map(JSONValue.number))])
    }

    public static func tile(_ volume: JSONValue, error: Double, content: String? = nil, transform: [Double]? = nil, children: [JSONValue]? = nil) -> JSONValue {
        var object: [String: JSONValue] = ["boundingVolume": volume, "geometricError": .number(error)]
        if let content { object["content"] = .object(["uri": .string(content)]) }
        if let transform { object["transform"] = .array(transform.map(JSONValue.number)) }
        if let children { object["children"] = .array(children) }
        return .object(object)
    }

    /// Root over 10–12°E 40–42°N; a west region child (two leaves), an east child in a local frame (a box of 5 km
    /// around 11.75°E 41.5°N, with a child box that is its own half), and a tile whose content is an external
    /// tileset over 10–10.5°E.
    public static func handMade() throws -> String {
        let directory = try Fixtures.temporaryDirectory("tileset")
        for name in ["west-a.b3dm", "west-b.pnts", "east.glb", "east-near.glb", "external/far.b3dm", "external/near.b3dm", "root.cmpt"] {
            let path = directory + "/" + name
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data("content of \(name)".utf8).write(to: URL(fileURLWithPath: path))
        }
        let external: JSONValue = .object([
            "asset": .object(["version": .string("1.1")]), "geometricError": .number(50),
            "root": tile(region(10, 40, 10.5, 40.5), error: 50, children: [
                tile(region(10, 40, 10.2, 40.2), error: 0, content: "near.b3dm"),
                tile(region(10.3, 40.3, 10.5, 40.5), error: 0, content: "far.b3dm"),
            ]).objectValue!.merging(["refine": .string("ADD")]) { $1 }.json,
        ])
        let root: JSONValue = .object([
            "asset": .object(["version": .string("1.0"), "tilesetVersion": .string("fixture")]),
            "geometricError": .number(500), "extras": .object(["kept": .bool(true)]),
            "root": tile(region(10, 40, 12, 42), error: 400, content: "root.cmpt", children: [
                tile(region(10, 40, 11, 42), error: 100, children: [
                    tile(region(10, 40, 11, 41), error: 0, content: "west-a.b3dm"),
                    tile(region(10, 41, 11, 42), error: 0, content: "west-b.pnts"),
                ]),
                tile(box(half: 5_000), error: 100, content: "east.glb", transform: frame(longitude: 11.75, latitude: 41.5), children: [
                    tile(box(half: 1_000), error: 0, content: "east-near.glb"),
                ]),
                tile(region(10, 40, 10.5, 40.5), error: 60, content: "external/tileset.json"),
            ]).objectValue!.merging(["refine": .string("REPLACE")]) { $1 }.json,
        ])
        try text(root).write(to: URL(fileURLWithPath: directory + "/tileset.json"))
        try text(external).write(to: URL(fileURLWithPath: directory + "/external/tileset.json"))
        return directory
    }

    /// JSON bytes of a fixture file.
    public static func text(_ value: JSONValue) throws -> Data { try JSONEncoder().encode(value) }
}

extension Dictionary where Key == String, Value == JSONValue {
    var json: JSONValue { .object(self) }
}
