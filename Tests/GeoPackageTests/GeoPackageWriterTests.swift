import Foundation
import GRDB
import GeoJSON
import GeoPackage
import Geometry
import Testing
import TestSupport
import TileGrid

@Suite struct GeoPackageWriterTests {
    /// Writes zoom 0–2 of the Blue Marble pyramid into a package.
    func writePyramid(to path: String, table: String = "bluemarble") async throws -> [TileCoordinate: Data] {
        let tiles = try await Fixtures.blueMarblePyramid()
        var written: [TileCoordinate: Data] = [:]
        let writer = try GeoPackageTileWriter(
            path: path,
            options: .init(
                tableName: table, contentsBounds: BoundingBox(minX: -10, minY: 35, maxX: 30, maxY: 60), maxZoom: 2,
                lastChange: Date(timeIntervalSince1970: 1_700_000_000)
            )
        )
        for zoom in 0...2 {
            var batch: [(TileCoordinate, Data)] = []
            for row in 0..<WorldCRS84Quad.matrixHeight(zoom) {
                for column in 0..<WorldCRS84Quad.matrixWidth(zoom) {
                    let data = try Data(contentsOf: URL(fileURLWithPath: "\(tiles)/\(zoom)/\(column)/\(row).png"))
                    let tile = TileCoordinate(zoom: zoom, column: column, row: row)
                    batch.append((tile, data))
                    written[tile] = data
                }
            }
            try await writer.append(batch)
        }
        try writer.finish()
        return written
    }

    @Test func passesGDALsValidatorAndOpensInGDAL() async throws {
        let directory = try Fixtures.temporaryDirectory("gpkg")
        let path = directory + "/out.gpkg"
        _ = try await writePyramid(to: path)
        #expect(try await GDAL.validate(path) == "")
        let info = try await GDAL.info(path)
        #expect(info.contains("Driver: GPKG/GeoPackage"))
        #expect(info.contains("ZOOM_LEVEL=2"))
    }

    @Test func headerTablesAndMatrix() async throws {
        let path = try Fixtures.temporaryDirectory("gpkg") + "/out.gpkg"
        _ = try await writePyramid(to: path)
        let queue = try DatabaseQueue(path: path)
        try await queue.read { db in
            #expect(try Int.fetchOne(db, sql: "PRAGMA application_id") == 0x4750_4B47)
            #expect(try Int.fetchOne(db, sql: "PRAGMA user_version")! >= 10200)
            #expect(try Int.fetchAll(db, sql: "SELECT srs_id FROM gpkg_spatial_ref_sys ORDER BY srs_id") == [-1, 0, 4326])
            let set = try Row.fetchOne(db, sql: "SELECT min_x, min_y, max_x, max_y FROM gpkg_tile_matrix_set")!
            #expect([set[0], set[1], set[2], set[3]] as [Double] == [-180, -90, 180, 90])
            let contents = try Row.fetchOne(db, sql: "SELECT min_x, max_y, last_change FROM gpkg_contents")!
            #expect(contents[0] as Double == -10)
            #expect(contents[2] as String == "2023-11-14T22:13:20.000Z")
            let matrix = try Row.fetchAll(db, sql: "SELECT zoom_level, matrix_width, matrix_height, pixel_x_size FROM gpkg_tile_matrix ORDER BY zoom_level")
            #expect(matrix.map { $0[0] as Int } == [0, 1, 2])
            #expect(matrix.map { $0[1] as Int } == [2, 4, 8])
            #expect(matrix.map { $0[2] as Int } == [1, 2, 4])
            #expect(matrix[2][3] as Double == 0.703125 / 4)
        }
        try queue.close()
    }

    @Test func gdalReadsBackEveryTileByteForByte() async throws {
        let path = try Fixtures.temporaryDirectory("gpkg") + "/out.gpkg"
        let written = try await writePyramid(to: path, table: "bm")
        let digests = try await GDAL.tileDigests(path, table: "bm")
        #expect(digests.count == written.count)
        for (tile, data) in written {
            #expect(digests["\(tile.zoom)/\(tile.column)/\(tile.row)"] == sha256Hex(data))
        }
    }

    @Test func identicalInputGivesIdenticalBytes() async throws {
        let directory = try Fixtures.temporaryDirectory("gpkg")
        _ = try await writePyramid(to: directory + "/a.gpkg")
        _ = try await writePyramid(to: directory + "/b.gpkg")
        let a = try Data(contentsOf: URL(fileURLWithPath: directory + "/a.gpkg"))
        let b = try Data(contentsOf: URL(fileURLWithPath: directory + "/b.gpkg"))
        #expect(a == b)
    }

    @Test func readerReadsWhatTheWriterWrote() async throws {
        let path = try Fixtures.temporaryDirectory("gpkg") + "/out.gpkg"
        let written = try await writePyramid(to: path)
        let reader = try GeoPackageTileReader(path: path, table: nil)
        let row = try await reader.tiles(zoom: 2, row: 1, columns: 0..<8)
        #expect(row.count == 8)
        #expect(row[3] == written[TileCoordinate(zoom: 2, column: 3, row: 1)])
        let inventory = try await reader.inventory()
        #expect(inventory.map(\.count) == [2, 8, 32])
    }

    @Test func refusesAnExistingFileAndZoomsOffTheGrid() throws {
        let path = try Fixtures.temporaryDirectory("gpkg") + "/x.gpkg"
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        let options = GeoPackageTileWriter.Options(tableName: "t", contentsBounds: BoundingBox(minX: 0, minY: 0, maxX: 1, maxY: 1), maxZoom: 3, lastChange: Date())
        #expect(throws: GeoPackageError.self) { try GeoPackageTileWriter(path: path, options: options) }
        var deep = options
        deep.maxZoom = 23
        #expect(throws: GeoPackageError.self) { try GeoPackageTileWriter(path: path + "2", options: deep) }
    }
}

/// Geometry blobs (issue #14's local copy): every 2D type round-trips, the header envelope is the geometry's.
@Suite struct GeoPackageGeometryTests {
    @Test func everyTypeRoundTripsWithItsEnvelope() throws {
        let ring = [Position(0, 0), Position(2, 0), Position(2, 1), Position(0, 0)]
        let geometries: [GeoJSONGeometry] = [
            .point(Position(-71.5, 42.25)), .multiPoint([Position(1, 2), Position(3, -4)]), .lineString([Position(0, 0), Position(1e-9, 89.999)]),
            .multiLineString([[Position(0, 0), Position(1, 1)], [Position(5, 5), Position(6, 7)]]), .polygon(PolygonCoordinates(rings: [ring])),
            .multiPolygon([PolygonCoordinates(rings: [ring]), PolygonCoordinates(rings: [ring.map { Position($0.longitude + 10, $0.latitude - 3) }])]),
        ]
        for geometry in geometries {
            let blob = GeoPackageGeometry.blob(geometry)
            #expect(Array(blob.prefix(2)) == [0x47, 0x50] && !GeoPackageGeometry.isEmpty(blob))
            #expect(try GeoPackageGeometry.geometry(blob) == geometry)
        }
        let envelope = try #require(GeoPackageGeometry.headerEnvelope(GeoPackageGeometry.blob(geometries[5])))
        #expect(envelope.minX == 0 && envelope.maxX == 12 && envelope.minY == -3 && envelope.maxY == 1)
        #expect(throws: GeoPackageError.self) { try GeoPackageGeometry.geometry([0x47, 0x50, 0, 3]) }
    }
}

/// The packed R-tree (``GeoPackageRTree``) is SQLite's own: `rtreecheck()` finds it whole, a query through the virtual
/// table returns exactly the features whose box meets the query's, and the triggers go on maintaining it after it.
@Suite struct GeoPackageRTreeTests {
    /// Coordinates on a grid of 1/8 (exact as 32-bit floats, so the R-tree's boxes are the features' own).
    static func boxes(_ count: Int, seed: UInt64) -> [Int64: (minX: Double, maxX: Double, minY: Double, maxY: Double)] {
        var random = SeededGenerator(seed: seed)
        var boxes: [Int64: (minX: Double, maxX: Double, minY: Double, maxY: Double)] = [:]
        for id in 1...Int64(max(count, 1)) where count > 0 {
            let x = Double(Int.random(in: -1_440...1_440, using: &random)) / 8, y = Double(Int.random(in: -720...720, using: &random)) / 8
            let width = Double(Int.random(in: 0...40, using: &random)) / 8, height = Double(Int.random(in: 0...40, using: &random)) / 8
            boxes[id] = (x, x + width, y, y + height)
        }
        return boxes
    }

    static func polygon(_ box: (minX: Double, maxX: Double, minY: Double, maxY: Double)) -> GeoJSONGeometry {
        .polygon(
            PolygonCoordinates(rings: [[
                Position(box.minX, box.minY), Position(box.maxX, box.minY), Position(box.maxX, box.maxY), Position(box.minX, box.maxY),
                Position(box.minX, box.minY),
            ]])
        )
    }

    func check(_ db: Database, _ boxes: [Int64: (minX: Double, maxX: Double, minY: Double, maxY: Double)], seed: UInt64) throws {
        #expect(try String.fetchOne(db, sql: "SELECT rtreecheck('rtree_t_geom')") == "ok")
        #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM rtree_t_geom") == boxes.count)
        var random = SeededGenerator(seed: seed)
        for _ in 0..<25 {
            let x = Double(Int.random(in: -1_500...1_500, using: &random)) / 8, y = Double(Int.random(in: -750...750, using: &random)) / 8
            let query = (minX: x, maxX: x + Double(Int.random(in: 0...400, using: &random)) / 8, minY: y, maxY: y + Double(Int.random(in: 0...200, using: &random)) / 8)
            let found = Set(
                try Int64.fetchAll(
                    db, sql: "SELECT id FROM rtree_t_geom WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?",
                    arguments: [query.minX, query.maxX, query.minY, query.maxY]
                )
            )
            let expected = Set(
                boxes.filter { $0.value.maxX >= query.minX && $0.value.minX <= query.maxX && $0.value.maxY >= query.minY && $0.value.minY <= query.maxY }.keys
            )
            #expect(found == expected)
        }
    }

    @Test(arguments: [0, 1, 51, 52, 2_602, 6_000])
    func packedTreeIsSQLitesOwn(count: Int) async throws {
        let directory = try Fixtures.temporaryDirectory("rtree")
        var configuration = Configuration()
        configuration.prepareDatabase { db in GeoPackageFeatures.addFunctions(db) }
        let queue = try DatabaseQueue(path: directory + "/t.gpkg", configuration: configuration)
        let first = Self.boxes(count, seed: UInt64(count))
        try await queue.write { db in
            try GeoPackageFeatures.prepare(db)
            try GeoPackageFeatures.createTable(db, table: "t", geometryTypeName: "GEOMETRY", columns: [], description: "test")
            try GeoPackageFeatures.dropTriggers(db, table: "t")
            for (id, box) in first {
                try db.execute(sql: "INSERT INTO t (fid, geom) VALUES (?, ?)", arguments: [id, Data(GeoPackageGeometry.blob(Self.polygon(box)))])
            }
            // An empty geometry has no entry.
            try db.execute(sql: "INSERT INTO t (fid, geom) VALUES (?, ?)", arguments: [1_000_000, Data(GeoPackageGeometry.blob(.multiPoint([])))])
            try GeoPackageRTree.rebuild(db, table: "t")
            try GeoPackageFeatures.createTriggers(db, table: "t")
        }
        try await queue.read { db in try check(db, first, seed: 7) }

        // The triggers keep the packed tree: inserts (splitting full nodes), moves and deletes.
        let more = Self.boxes(300, seed: UInt64(count) + 99)
        let final = try await queue.write { db in
            var boxes = first
            for (id, box) in more {
                try db.execute(sql: "INSERT INTO t (fid, geom) VALUES (?, ?)", arguments: [id + 10_000, Data(GeoPackageGeometry.blob(Self.polygon(box)))])
                boxes[id + 10_000] = box
            }
            for id in boxes.keys.sorted().prefix(boxes.count / 3) {
                try db.execute(sql: "DELETE FROM t WHERE fid = ?", arguments: [id])
                boxes[id] = nil
            }
            for (id, box) in boxes.sorted(by: { $0.key < $1.key }).prefix(100) {
                let moved = (minX: box.minX + 1, maxX: box.maxX + 1, minY: box.minY - 1, maxY: box.maxY - 1)
                try db.execute(sql: "UPDATE t SET geom = ? WHERE fid = ?", arguments: [Data(GeoPackageGeometry.blob(Self.polygon(moved))), id])
                boxes[id] = moved
            }
            return boxes
        }
        try await queue.read { db in try check(db, final, seed: 8) }
    }
}
