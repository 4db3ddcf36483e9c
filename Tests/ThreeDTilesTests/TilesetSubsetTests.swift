import Foundation
import GeoJSON
import Geometry
import JSONValues
import Testing
import TestSupport
import ThreeDTiles

/// The subset of a 3D Tiles tileset that meets a region (issue #13), on a hand-made tileset with regions, boxes,
/// transforms down the tree and an external tileset.
@Suite struct TilesetSubsetTests {
    /// Radians of a degree.
    static let r = Double.pi / 180

    static func region(_ west: Double, _ south: Double, _ east: Double, _ north: Double) -> JSONValue {
        .object(["region": .array([west * r, south * r, east * r, north * r, 0, 100].map(JSONValue.number))])
    }

    /// An east-north-up frame at a place (its column-major transform) and a box of `half` metres around it.
    static func frame(longitude: Double, latitude: Double) -> [Double] {
        let lon = longitude * r
        let lat = latitude * r
        let east = [-sin(lon), cos(lon), 0.0]
        let north = [-sin(lat) * cos(lon), -sin(lat) * sin(lon), cos(lat)]
        let up = [cos(lat) * cos(lon), cos(lat) * sin(lon), sin(lat)]
        let origin = Geodetic.ecef(longitude: longitude, latitude: latitude, height: 0)
        return east + [0] + north + [0] + up + [0] + [origin.x, origin.y, origin.z, 1]
    }

    static func box(half: Double) -> JSONValue {
        .object(["box": .array([0, 0, 0, half, 0, 0, 0, half, 0, 0, 0, half].map(JSONValue.number))])
    }

    static func tile(_ volume: JSONValue, error: Double, content: String? = nil, transform: [Double]? = nil, children: [JSONValue]? = nil) -> JSONValue {
        var object: [String: JSONValue] = ["boundingVolume": volume, "geometricError": .number(error)]
        if let content { object["content"] = .object(["uri": .string(content)]) }
        if let transform { object["transform"] = .array(transform.map(JSONValue.number)) }
        if let children { object["children"] = .array(children) }
        return .object(object)
    }

    /// Root over 10–12°E 40–42°N; a west region child (two leaves), an east child in a local frame (a box of 5 km
    /// around 11.75°E 41.5°N, with a child box that is its own half), and a tile whose content is an external
    /// tileset over 10–10.5°E.
    static func make() throws -> (DirectoryTilesetFiles, String) {
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
        try Data(try CanonicalText.of(root).utf8).write(to: URL(fileURLWithPath: directory + "/tileset.json"))
        try Data(try CanonicalText.of(external).utf8).write(to: URL(fileURLWithPath: directory + "/external/tileset.json"))
        return (DirectoryTilesetFiles(root: directory), directory)
    }

    static func roi(_ west: Double, _ south: Double, _ east: Double, _ north: Double) -> Region {
        Region(box: BoundingBox(minX: west, minY: south, maxX: east, maxY: north))
    }

    @Test func keepsTilesThatMeetTheRegionWithTheirAncestors() throws {
        let (files, _) = try Self.make()
        // South-west corner: the west-a leaf, the external tileset's near leaf; not the east frame's boxes.
        let subset = try TilesetSubset.make(root: "tileset.json", files: files, region: Self.roi(10.05, 40.05, 10.15, 40.15))
        #expect(subset.contents == ["root.cmpt", "west-a.b3dm", "external/near.b3dm"])
        #expect(subset.tiles == 6)
        #expect(subset.contentBytes == Int64(["root.cmpt", "west-a.b3dm", "external/near.b3dm"].map { "content of \($0)".utf8.count }.reduce(0, +)))
        let root = try #require(subset.tilesets["tileset.json"]?.objectValue)
        #expect(root["extras"] == .object(["kept": .bool(true)]) && root["asset"]?.objectValue?["tilesetVersion"] == .string("fixture"))
        let children = try #require(root["root"]?.objectValue?["children"]?.arrayValue)
        #expect(children.count == 2, "the east frame's tile does not meet the corner")
        #expect(children[0].objectValue?["children"]?.arrayValue?.count == 1)
        #expect(root["root"]?.objectValue?["refine"] == .string("REPLACE"))
        let external = try #require(subset.tilesets["external/tileset.json"]?.objectValue?["root"]?.objectValue)
        #expect(external["children"]?.arrayValue?.count == 1 && external["refine"] == .string("ADD"))
        try TilesetRules.check(subset, files: files)
    }

    @Test func boxesAreFoundThroughTheirTransforms() throws {
        let (files, _) = try Self.make()
        // Around 11.75°E 41.5°N: the east frame's box and its child, nothing of the west or the external tileset.
        let subset = try TilesetSubset.make(root: "tileset.json", files: files, region: Self.roi(11.74, 41.49, 11.76, 41.51))
        #expect(subset.contents == ["root.cmpt", "east.glb", "east-near.glb"])
        #expect(subset.tilesets.keys.sorted() == ["tileset.json"])
        // 30 km away the 5 km box is not met.
        let away = try TilesetSubset.make(root: "tileset.json", files: files, region: Self.roi(11.3, 41.0, 11.4, 41.1))
        #expect(away.contents == ["root.cmpt"])
        #expect(away.tilesets["tileset.json"]?.objectValue?["root"]?.objectValue?["children"] == nil, "no empty children array")
        try TilesetRules.check(away, files: files)
    }

    @Test func theWholeLayerKeepsEverything() throws {
        let (files, _) = try Self.make()
        let subset = try TilesetSubset.make(root: "tileset.json", files: files, region: Self.roi(10, 40, 12, 42))
        #expect(subset.contents.count == 7 && subset.tiles == 10)
        try TilesetRules.check(subset, files: files)
    }

    @Test func refusesWhatItCannotSubset() throws {
        let (files, directory) = try Self.make()
        #expect(throws: TilesetError("the tileset's root does not meet the region")) {
            try TilesetSubset.make(root: "tileset.json", files: files, region: Self.roi(20, 20, 21, 21))
        }
        let escaping: JSONValue = .object([
            "asset": .object(["version": .string("1.1")]), "geometricError": .number(1),
            "root": Self.tile(Self.region(10, 40, 12, 42), error: 0, content: "../../etc/passwd"),
        ])
        try Data(try CanonicalText.of(escaping).utf8).write(to: URL(fileURLWithPath: directory + "/escaping.json"))
        #expect(throws: TilesetError("escaping.json: content ../../etc/passwd leaves the tileset's directory")) {
            try TilesetSubset.make(root: "escaping.json", files: files, region: Self.roi(10, 40, 12, 42))
        }
    }

    /// Geodetic round trip, and a box over the north pole covers every longitude up to 90°.
    @Test func volumesInGeographicTerms() {
        let p = Geodetic.ecef(longitude: 35.2, latitude: 31.8, height: 800)
        let back = Geodetic.longitudeLatitude(p)
        #expect(abs(back.longitude - 35.2) < 1e-8 && abs(back.latitude - 31.8) < 1e-8)
        let pole = BoundingVolume.box([0, 0, 6_356_752, 500_000, 0, 0, 0, 500_000, 0, 0, 0, 10_000])
        let bounds = pole.geographicBounds(transform: .identity)
        #expect(bounds.minX == -180 && bounds.maxX == 180 && bounds.maxY == 90 && bounds.minY > 83)
        let earth = BoundingVolume.sphere([0, 0, 0, 6_400_000]).geographicBounds(transform: .identity)
        #expect(earth == BoundingBox(minX: -180, minY: -90, maxX: 180, maxY: 90))
    }
}

/// JSON text for fixtures.
enum CanonicalText {
    static func of(_ value: JSONValue) throws -> String { String(decoding: try JSONEncoder().encode(value), as: UTF8.self) }
}

extension Dictionary where Key == String, Value == JSONValue {
    var json: JSONValue { .object(self) }
}
