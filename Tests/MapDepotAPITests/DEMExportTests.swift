import Foundation
import HTTPTypes
import HummingbirdTesting
import JSONValues
import MapDepotAPI
import MapDepotCore
import GeoPackage
import NIOCore
import Raster
import Testing
import TestSupport
import TileGrid

/// Domain DEM through the API (issue #13): a DEM record from the Jacksboro GeoTIFF, exports of part of it as GeoPackage
/// gridded coverages (INT16 as 16-bit PNG, FLOAT32 as TIFF) that GDAL opens, validates and reads the source's
/// elevations from, with the elevation range in the metadata; FLOAT64 and UTM are refused.
@Suite struct DEMExportTests {
    static let recordID = "de3f1a2b-4c5d-4e6f-8a9b-0c1d2e3f4a5b"
    static let dem = Fixtures.sharedData.appendingPathComponent("jacksboro_dem_4326.tif").path

    static func request(_ parameters: String) -> String {
        let ring = "[[-84.40,36.50],[-84.20,36.50],[-84.20,36.70],[-84.40,36.70],[-84.40,36.50]]"
        return #"{"catalogRecordID":"\#(recordID)","domain":"DEM","artifactCRS":"4326","webhooks":[],"parameters":\#(parameters),"ROI":{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[\#(ring)]}}]}}"#
    }

    /// GDAL reads the source's own elevation from the export at source cells inside the ROI (nearest, full resolution).
    static func expectSourceElevations(in path: String, grid: ElevationGrid) async throws {
        for (column, row) in [(20, 45), (150, 200), (240, 270)] {
            let longitude = grid.originX + (Double(column) + 0.5) * grid.pixelX
            let latitude = grid.originY - (Double(row) + 0.5) * grid.pixelY
            let read = try await Shell.execute("gdallocationinfo", ["-valonly", "-wgs84", path, "\(longitude)", "\(latitude)"])
            #expect(Double(read.output.trimmingCharacters(in: .whitespacesAndNewlines)) == Double(grid[column, row]), "cell \(column),\(row): \(read.output)")
        }
    }

    /// Exports the test's ROI with `parameters`, waits for it and downloads the coverage into `directory`.
    static func export(_ parameters: String, client: some TestClientProtocol, token: String, into directory: String) async throws -> String {
        let created = try await client.call(.post, "/export-tasks", token: token, body: Self.request(parameters))
        let id = Int(try #require(created.json.objectValue?["id"]?.numberValue, "\(created.message)"))
        let task = try await client.waitForTask(id, token: token)
        #expect(task["status"] == .string("COMPLETED"), "\(task["errorReason"] ?? .null)")
        let url = try #require(task["artifacts"]?.arrayValue?.first?.objectValue?["url"]?.stringValue.flatMap(URL.init(string:)))
        let path = directory + "/export.gpkg"
        try Data(try await client.call(.get, url.path + "?" + (url.query ?? "")).body.readableBytesView).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func partOfADEMIsExportedAsAGriddedCoverageGDALReads() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let record = #"{"id":"\#(Self.recordID)","productId":"jacksboro","productName":"Jacksboro DEM","productType":"DTM","domain":"DEM","verticalDatum":"EGM96","source":{"type":"geotiff","path":"\#(Self.dem)"}}"#
            let added = try await client.call(.post, "/catalog/records", token: server.admin, body: record)
            #expect(added.status == .created, "\(added.message)")
            let described = added.json.objectValue ?? [:]
            #expect(described["noDataValue"] == .number(-32768) && described["dataType"] == .string("INT16") && described["units"] == .string("m"))
            #expect(described["maxResolutionDeg"] == .number(0.703125 / 1024), "zoom 10 keeps every cell of the 3″ source")

            for refused in [#"{"dataType":"FLOAT64"}"#, #"{"projection":"UTM"}"#, #"{"resampleMethod":"cubic"}"#, #"{"resolutionMeter":-5}"#] {
                let answer = try await client.call(.post, "/export-tasks", token: server.alice, body: Self.request(refused))
                #expect(answer.status == .badRequest, "\(refused): \(answer.message)")
            }
            #expect(try await client.call(.post, "/export-tasks", token: server.alice, body: Self.request(#"{"dataType":"FLOAT64"}"#)).message.contains("FLOAT32"))

            let grid = try await Offload.run { try RasterFixture.jacksboro() }
            for (parameters, type) in [(#"{"dataType":"INT16"}"#, "Int16"), (#"{"dataType":"FLOAT32","resampleMethod":"nearest"}"#, "Float32")] {
                let estimate = try await client.call(.post, "/export-tasks/estimate", token: server.alice, body: Self.request(parameters))
                let tiles = try #require(estimate.json.objectValue?["tiles"]?.numberValue, "\(estimate.message)")
                let created = try await client.call(.post, "/export-tasks", token: server.alice, body: Self.request(parameters))
                #expect(created.status == .created, "\(created.message)")
                let id = Int(try #require(created.json.objectValue?["id"]?.numberValue))
                let task = try await client.waitForTask(id, token: server.alice)
                #expect(task["status"] == .string("COMPLETED"), "\(task["errorReason"] ?? .null)")
                let artifacts = task["artifacts"]?.arrayValue?.compactMap(\.objectValue) ?? []
                let url = try #require(artifacts.first?["url"]?.stringValue.flatMap(URL.init(string:)))
                let directory = try Fixtures.temporaryDirectory("dem-export")
                defer { try? FileManager.default.removeItem(atPath: directory) }
                let path = directory + "/dem.gpkg"
                try Data(try await client.call(.get, url.path + "?" + (url.query ?? "")).body.readableBytesView).write(to: URL(fileURLWithPath: path))
                let problems = try await GDAL.validate(path)
                #expect(problems == "", "\(problems)")
                let info = try await Shell.execute("gdalinfo", [path])
                #expect(info.output.contains("Type=\(type)") && info.output.contains("NoData Value=-32768"), "\(info.output.suffix(800))")
                let count = try await Shell.execute("/usr/bin/python3", ["-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from gpkg_2d_gridded_tile_ancillary').fetchone()[0])", path])
                #expect(Double(count.output.trimmingCharacters(in: .whitespacesAndNewlines)).map { $0 > 0 && $0 <= tiles } == true, "\(count.output) tiles of \(tiles) estimated")
                try await Self.expectSourceElevations(in: path, grid: grid)
                let metadataURL = try #require(artifacts.last?["url"]?.stringValue.flatMap(URL.init(string:)))
                let metadata = try await client.call(.get, metadataURL.path + "?" + (metadataURL.query ?? "")).json.objectValue ?? [:]
                #expect(metadata["type"] == .string("RECORD_DEM") && metadata["verticalDatum"] == .string("EGM96") && metadata["units"] == .string("m"))
                let low = try #require(metadata["minElevation"]?.numberValue)
                let high = try #require(metadata["maxElevation"]?.numberValue)
                #expect(low >= 236 && high <= 1076 && low < high)
            }
        }
    }

    /// A DEM whose source is a gridded-coverage GeoPackage as GDAL writes it (16-bit PNG tiles on its own grid).
    @Test func aCoverageGeoPackageIsADEMSourceToo() async throws {
        let directory = try Fixtures.temporaryDirectory("dem-source")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = directory + "/dem_ref_png.gpkg"
        let made = try await Shell.execute("gdal_translate", ["-q", "-of", "GPKG", "-co", "TILE_FORMAT=PNG", Self.dem, source])
        try #require(made.status == 0, "\(made.error)")
        let server = try await TestServer.make()
        try await server.run { client in
            let record = #"{"id":"\#(Self.recordID)","productId":"jacksboro-gpkg","productType":"DTM","domain":"DEM","source":{"type":"geopackage","path":"\#(source)"}}"#
            let added = try await client.call(.post, "/catalog/records", token: server.admin, body: record)
            #expect(added.status == .created && added.json.objectValue?["dataType"] == .string("INT16"), "\(added.message)")
            let path = try await Self.export(#"{"dataType":"INT16"}"#, client: client, token: server.alice, into: directory)
            let grid = try await Offload.run { try RasterFixture.jacksboro() }
            try await Self.expectSourceElevations(in: path, grid: grid)
        }
    }

    /// A DEM whose source is a WorldCRS84Quad pyramid of float32 TIFF tiles (`{z}/{x}/{y}.tif`), here zoom 10 of the
    /// Jacksboro DEM cut by our own tile writer (GDAL has no command that writes one).
    @Test func aPyramidOfFloatTilesIsADEMSourceToo() async throws {
        let directory = try Fixtures.temporaryDirectory("dem-pyramid")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let grid = try await Offload.run { try RasterFixture.jacksboro() }
        try await Offload.run {
            for tile in GriddedCoverageWriter.tiles(of: grid, zoom: 10) {
                guard let rendered = try GriddedCoverageWriter.render(grid, tile: tile, resampling: .nearest, encoding: .float32(null: -32768)) else { continue }
                let folder = "\(directory)/10/\(tile.column)"
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                try Data(rendered.data).write(to: URL(fileURLWithPath: "\(folder)/\(tile.row).tif"))
            }
        }
        let server = try await TestServer.make()
        try await server.run { client in
            let record = #"{"id":"\#(Self.recordID)","productId":"jacksboro-tiles","productType":"DTM","domain":"DEM","noDataValue":-32768,"source":{"type":"directory","path":"\#(directory)","scheme":"xyz","format":"tiff"}}"#
            let added = try await client.call(.post, "/catalog/records", token: server.admin, body: record)
            #expect(added.status == .created && added.json.objectValue?["maxResolutionDeg"] == .number(0.703125 / 1024), "\(added.message)")
            let path = try await Self.export(#"{"dataType":"FLOAT32"}"#, client: client, token: server.alice, into: directory)
            try await Self.expectSourceElevations(in: path, grid: grid)
            // A TIFF pyramid is not a RASTER source.
            let raster = record.replacingOccurrences(of: #""domain":"DEM""#, with: #""domain":"RASTER""#).replacingOccurrences(of: Self.recordID, with: UUID().uuidString)
            #expect(try await client.call(.post, "/catalog/records", token: server.admin, body: raster).status == .badRequest)
        }
    }
}
