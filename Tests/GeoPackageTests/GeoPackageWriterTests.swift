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
