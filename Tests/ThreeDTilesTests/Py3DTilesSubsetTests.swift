import Foundation
import Geometry
import JSONValues
import Testing
import TestSupport
import ThreeDTiles

/// A real tileset: py3dtiles (PyPI) turns a point cloud of the Jacksboro DEM (GDAL's XYZ of it, 138,632 points) into
/// 3D Tiles (pnts content, boxes with scaling transforms in ECEF). Its subset over the western half keeps the 3D Tiles
/// rules and py3dtiles reads it back: fewer points than the whole, more than none (issue #13).
@Suite struct Py3DTilesSubsetTests {
    static let dem = Fixtures.sharedData.appendingPathComponent("jacksboro_dem_4326.tif").path

    static func read(_ tileset: String) async throws -> [String: JSONValue] {
        let script = Fixtures.packageRoot.appendingPathComponent("Tests/ThreeDTilesTests/py3dtiles_read.py").path
        let result = try await Shell.execute(ToolsPython.bin + "/python", [script, tileset])
        let report = (try? JSONValue.parse(Data((result.output.split(separator: "\n").last.map(String.init) ?? "").utf8)))?.objectValue ?? [:]
        #expect(result.status == 0 && report["ok"] == .bool(true), "\(report["failed"] ?? .string(result.output)) \(result.error.suffix(1_000))")
        return report
    }

    @Test func theWesternHalfOfAPointCloudIsAValidTilesetThatPy3DTilesReads() async throws {
        let py3dtiles = ToolsPython.bin + "/py3dtiles"
        try #require(FileManager.default.isExecutableFile(atPath: py3dtiles), "\(py3dtiles) is missing: scripts/install-deps installs it")
        let directory = try Fixtures.temporaryDirectory("py3dtiles")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let xyz = directory + "/dem.xyz"
        let translated = try await Shell.execute("gdal_translate", ["-q", "-of", "XYZ", Self.dem, xyz])
        try #require(translated.status == 0, "\(translated.error)")
        let converted = try await Shell.execute(
            py3dtiles,
            ["convert", xyz, "--srs_in", "4326", "--srs_out", "4978", "--out", directory + "/source", "--jobs", "1", "--disable-processpool", "--pyproj-always-xy"]
        )
        try #require(converted.status == 0, "\(converted.error.suffix(2_000))")
        let files = DirectoryTilesetFiles(root: directory + "/source")

        let west = Region(box: BoundingBox(minX: -84.42, minY: 36.44, maxX: -84.25, maxY: 36.74))
        let subset = try TilesetSubset.make(root: "tileset.json", files: files, region: west)
        let whole = try TilesetSubset.make(root: "tileset.json", files: files, region: Region(box: BoundingBox(minX: -85, minY: 36, maxX: -84, maxY: 37)))
        #expect(subset.contents.count < whole.contents.count && subset.contentBytes < whole.contentBytes)

        try subset.write(from: files.root, to: directory + "/subset")
        #expect(TilesetRules.violations(directory: directory + "/subset") == [])
        for content in subset.contents {
            #expect(FileManager.default.contentsEqual(atPath: files.root + "/" + content, andPath: directory + "/subset/" + content), "\(content) copied byte for byte")
        }
        let read = try await Self.read(directory + "/subset/tileset.json")
        let all = try await Self.read(directory + "/source/tileset.json")
        let points = try #require(read["points"]?.numberValue)
        let total = try #require(all["points"]?.numberValue)
        #expect(points > 0 && points < total, "\(points) of \(total) points")
        #expect(read["tiles"]?.numberValue == Double(subset.tiles))
    }
}
