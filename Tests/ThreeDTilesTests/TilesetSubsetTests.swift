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
    static func roi(_ west: Double, _ south: Double, _ east: Double, _ north: Double) -> Region {
        Region(box: BoundingBox(minX: west, minY: south, maxX: east, maxY: north))
    }

    @Test func keepsTilesThatMeetTheRegionWithTheirAncestors() throws {
        let files = DirectoryTilesetFiles(root: try TilesetFixtures.handMade())
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
        try Self.expectValid(subset, files: files)
    }

    @Test func boxesAreFoundThroughTheirTransforms() throws {
        let files = DirectoryTilesetFiles(root: try TilesetFixtures.handMade())
        // Around 11.75°E 41.5°N: the east frame's box and its child, nothing of the west or the external tileset.
        let subset = try TilesetSubset.make(root: "tileset.json", files: files, region: Self.roi(11.74, 41.49, 11.76, 41.51))
        #expect(subset.contents == ["root.cmpt", "east.glb", "east-near.glb"])
        #expect(subset.tilesets.keys.sorted() == ["tileset.json"])
        // 30 km away the 5 km box is not met.
        let away = try TilesetSubset.make(root: "tileset.json", files: files, region: Self.roi(11.3, 41.0, 11.4, 41.1))
        #expect(away.contents == ["root.cmpt"])
        #expect(away.tilesets["tileset.json"]?.objectValue?["root"]?.objectValue?["children"] == nil, "no empty children array")
        try Self.expectValid(away, files: files)
    }

    @Test func theWholeLayerKeepsEverything() throws {
        let files = DirectoryTilesetFiles(root: try TilesetFixtures.handMade())
        let subset = try TilesetSubset.make(root: "tileset.json", files: files, region: Self.roi(10, 40, 12, 42))
        #expect(subset.contents.count == 7 && subset.tiles == 10)
        try Self.expectValid(subset, files: files)
    }

    @Test func refusesWhatItCannotSubset() throws {
        let directory = try TilesetFixtures.handMade()
        let files = DirectoryTilesetFiles(root: directory)
        #expect(throws: TilesetError("the tileset's root does not meet the region")) {
            try TilesetSubset.make(root: "tileset.json", files: files, region: Self.roi(20, 20, 21, 21))
        }
        let escaping: JSONValue = .object([
            "asset": .object(["version": .string("1.1")]), "geometricError": .number(1),
            "root": TilesetFixtures.tile(TilesetFixtures.region(10, 40, 12, 42), error: 0, content: "../../etc/passwd"),
        ])
        try TilesetFixtures.text(escaping).write(to: URL(fileURLWithPath: directory + "/escaping.json"))
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

    /// The checker has teeth: a missing content file, an empty `children` and a child larger than its parent are found.
    @Test func theRulesCatchABrokenTileset() throws {
        let directory = try TilesetFixtures.handMade()
        #expect(TilesetRules.violations(directory: directory) == [])
        try FileManager.default.removeItem(atPath: directory + "/west-a.b3dm")
        let broken: JSONValue = .object([
            "asset": .object(["version": .string("1.1")]), "geometricError": .number(10),
            "root": .object([
                "boundingVolume": TilesetFixtures.region(10, 40, 11, 41), "geometricError": .number(10), "refine": .string("ADD"),
                "children": .array([
                    .object(["boundingVolume": TilesetFixtures.region(9, 40, 11, 41), "geometricError": .number(20), "children": .array([])])
                ]),
            ]),
        ])
        try TilesetFixtures.text(broken).write(to: URL(fileURLWithPath: directory + "/broken.json"))
        #expect(TilesetRules.violations(directory: directory).count == 1)
        let found = TilesetRules.violations(directory: directory, root: "broken.json")
        #expect(found.count == 3, "\(found)")
    }

    /// The subset written out keeps the 3D Tiles rules.
    static func expectValid(_ subset: TilesetSubset, files: DirectoryTilesetFiles) throws {
        let out = try Fixtures.temporaryDirectory("subset")
        defer { try? FileManager.default.removeItem(atPath: out) }
        try subset.write(from: files.root, to: out)
        #expect(TilesetRules.violations(directory: out) == [])
    }
}
