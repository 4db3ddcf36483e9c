import Foundation
import GeoPackage
import Geometry
import MapDepotCore
import Raster
import Testing
import TestSupport
import TileGrid

/// The DEM domain's GeoPackage (issue #13): the Jacksboro DEM as a 2D gridded coverage, float32 TIFF and 16-bit PNG
/// tiles, read back by GDAL — the coverage is seen, the validator passes, and nearest resampling at the source's
/// resolution gives the source's elevation at every sampled point.
@Suite struct GriddedCoverageTests {
    static let dem = Fixtures.sharedData.appendingPathComponent("jacksboro_dem_4326.tif").path

    static func write(_ encoding: CoverageEncoding, zoom: Int, to path: String) async throws -> (ElevationGrid, Int) {
        // Decoding and rendering off Swift's cooperative threads: seconds of CPU in a debug build starved other suites.
        let grid = try await Offload.run { try TIFFReader(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: dem)))).grid() }
        let bounds = grid.bounds
        let writer = try GriddedCoverageWriter(
            path: path,
            options: .init(
                tableName: "jacksboro", contentsBounds: BoundingBox(minX: bounds.west, minY: bounds.south, maxX: bounds.east, maxY: bounds.north),
                maxZoom: zoom, lastChange: Date(timeIntervalSince1970: 1_800_000_000), encoding: encoding
            )
        )
        let tiles = try await Offload.run {
            try GriddedCoverageWriter.tiles(of: grid, zoom: zoom).compactMap { tile in
                try GriddedCoverageWriter.render(grid, tile: tile, resampling: .nearest, encoding: encoding).map { (tile: tile, data: $0.data, statistics: $0.statistics) }
            }
        }
        try await writer.append(tiles)
        let count = try writer.tileCount()
        try writer.finish()
        return (grid, count)
    }

    @Test(arguments: [CoverageEncoding.float32(null: -32768), CoverageEncoding.png16(offset: -32768)])
    func gdalReadsTheCoverageAndItsElevations(encoding: CoverageEncoding) async throws {
        let directory = try Fixtures.temporaryDirectory("coverage")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/dem.gpkg"
        // Zoom 10 (0.000687°) is the coarsest WorldCRS84Quad level finer than the source's 0.000833°.
        let (grid, count) = try await Self.write(encoding, zoom: 10, to: path)
        #expect(count > 0)
        let problems = try await GDAL.validate(path)
        #expect(problems == "", "\(problems)")
        let info = try await Shell.execute("gdalinfo", [path])
        let type = if case .float32 = encoding { "Float32" } else { "Int16" }
        #expect(info.output.contains("Type=\(type)") && info.output.contains("NoData Value=-32768"), "\(info.output.suffix(1_500)) \(info.error)")
        // Our reader (a DEM source may be a coverage) reads the same values back on the WorldCRS84Quad grid.
        let back = try await Offload.run { try GriddedCoverageReader(path: path).grid() }
        // Source cell centres, spread over the grid.
        for (column, row) in [(0, 0), (402, 343), (100, 200), (250, 37), (17, 300), (390, 5), (201, 172)] {
            let longitude = grid.originX + (Double(column) + 0.5) * grid.pixelX
            let latitude = grid.originY - (Double(row) + 0.5) * grid.pixelY
            let result = try await Shell.execute("gdallocationinfo", ["-valonly", "-wgs84", path, "\(longitude)", "\(latitude)"])
            let value = Double(result.output.trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(value == Double(grid[column, row]), "cell \(column),\(row): GDAL reads \(result.output) \(result.error)")
            #expect(back.value(longitude: longitude, latitude: latitude, resampling: .nearest) == grid[column, row], "read back \(column),\(row)")
        }
    }
}

/// DEM sources as GDAL writes them (the data README's commands): float32 TIFF and 16-bit PNG tiles on GDAL's own grid,
/// read back cell for cell equal to the GeoTIFF. (On the WorldCRS84Quad grid, our own coverages are read back above.)
@Suite struct GriddedCoverageReaderTests {
    @Test(arguments: [
        ["-ot", "Float32", "-co", "TILE_FORMAT=TIFF"], ["-co", "TILE_FORMAT=PNG"],
    ])
    func readsWhatGDALWrites(options: [String]) async throws {
        let directory = try Fixtures.temporaryDirectory("coverage-source")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/dem.gpkg"
        let made = try await Shell.execute("gdal_translate", ["-q", "-of", "GPKG"] + options + [GriddedCoverageTests.dem, path])
        try #require(made.status == 0, "\(made.error)")
        let grid = try await Offload.run { try GriddedCoverageReader(path: path).grid() }
        let source = try await Offload.run { try TIFFReader(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: GriddedCoverageTests.dem)))).grid() }
        #expect(grid.width == source.width && grid.height == source.height)
        #expect(abs(grid.originX - source.originX) < 1e-9 && abs(grid.originY - source.originY) < 1e-9)
        #expect(grid.values == source.values, "every cell")
    }
}
