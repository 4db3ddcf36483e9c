import Foundation
import MapDepotCore
import Raster
import Testing
import TestSupport

/// The DEM domain's codecs (issue #13) against GDAL, the field's reference: the Jacksboro GeoTIFF as GDAL wrote it and
/// as GDAL rewrites it (LZW, predictor, tiles, float32), and our PNG16 and float32 TIFF tiles read back by GDAL.
/// Decoding and encoding run through `Offload`: seconds of CPU in a debug build on Swift's two cooperative threads
/// starved the other suites' timers (a Watchdog tick waited 7 s in a CI run).
@Suite struct RasterCodecTests {
    static let dem = Fixtures.sharedData.appendingPathComponent("jacksboro_dem_4326.tif").path
    /// (column, row) cells spread over the grid.
    static let cells = [(0, 0), (402, 343), (100, 200), (250, 37), (17, 300), (390, 5)]

    /// GDAL's value at a cell (`gdallocationinfo -valonly`).
    static func gdal(_ path: String, _ column: Int, _ row: Int) async throws -> Double {
        let result = try await Shell.execute("gdallocationinfo", ["-valonly", path, "\(column)", "\(row)"])
        return try #require(Double(result.output.trimmingCharacters(in: .whitespacesAndNewlines)), "\(result.error)")
    }

    static func read(_ path: String) async throws -> ElevationGrid {
        try await Offload.run { try TIFFReader(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path)))).grid() }
    }

    @Test func readsTheJacksboroGeoTIFFAsGDALDoes() async throws {
        let grid = try await Self.read(Self.dem)
        #expect(grid.width == 403 && grid.height == 344 && grid.nodata == -32768)
        #expect(abs(grid.originX - -84.41375) < 1e-9 && abs(grid.originY - 36.7329166667) < 1e-9 && abs(grid.pixelX - 0.000833333333333) < 1e-12)
        let values = grid.values.filter { !grid.isNoData($0) }
        #expect(values.min() == 236 && values.max() == 1076)
        for (column, row) in Self.cells {
            #expect(Double(grid[column, row]) == (try await Self.gdal(Self.dem, column, row)), "cell \(column),\(row)")
        }
    }

    @Test(arguments: [
        ["-co", "COMPRESS=LZW"], ["-co", "COMPRESS=LZW", "-co", "PREDICTOR=2"], ["-co", "COMPRESS=DEFLATE", "-co", "TILED=YES", "-co", "BLOCKXSIZE=64", "-co", "BLOCKYSIZE=32"],
        ["-ot", "Float32", "-co", "COMPRESS=LZW"], ["-co", "COMPRESS=NONE"], ["-ot", "Float64"],
    ])
    func readsWhatGDALWrites(options: [String]) async throws {
        let directory = try Fixtures.temporaryDirectory("tiff")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/dem.tif"
        let made = try await Shell.execute("gdal_translate", ["-q"] + options + [Self.dem, path])
        try #require(made.status == 0, "\(made.error)")
        let grid = try await Self.read(path)
        let original = try await Self.read(Self.dem)
        #expect(grid.values == original.values && grid.nodata == original.nodata)
    }

    @Test func gdalReadsOurTiles() async throws {
        let directory = try Fixtures.temporaryDirectory("tiles")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let width = 37, height = 23
        let samples = (0..<(width * height)).map { UInt16(($0 * 2_654_435_761) & 0xFFFF) }
        let png = directory + "/tile.png"
        try Data(try PNG16.encode(width: width, height: height, samples: samples)).write(to: URL(fileURLWithPath: png))
        #expect(try PNG16.decode(Array(try Data(contentsOf: URL(fileURLWithPath: png)))).samples == samples)
        let floats = (0..<(width * height)).map { Float($0) * 0.37 - 100.125 }
        let tiff = directory + "/tile.tif"
        try Data(try TIFFFloat32.encode(width: width, height: height, values: floats)).write(to: URL(fileURLWithPath: tiff))
        #expect(try await Self.read(tiff).values == floats)
        for (column, row) in [(0, 0), (36, 22), (5, 17)] {
            #expect(try await Self.gdal(png, column, row) == Double(samples[row * width + column]))
            #expect(Float(try await Self.gdal(tiff, column, row)) == floats[row * width + column], "GDAL prints a float to 15 digits")
        }
        // Rows filtered every way PNG allows (GDAL writes with filters): decoded exactly.
        let filtered = directory + "/filtered.png"
        let made = try await Shell.execute("gdal_translate", ["-q", "-of", "PNG", "-ot", "UInt16", "-scale", "236", "1076", "0", "65535", Self.dem, filtered])
        try #require(made.status == 0, "\(made.error)")
        let decoded = try await Offload.run { try PNG16.decode(Array(try Data(contentsOf: URL(fileURLWithPath: filtered)))) }
        for (column, row) in Self.cells {
            #expect(Double(decoded.samples[row * decoded.width + column]) == (try await Self.gdal(filtered, column, row)))
        }
    }

    /// Round trips through the table's clears and every code width, and GDAL reads our LZW strips (the float tiles).
    @Test func lzwRoundTrips() async throws {
        var generator = SeededGenerator(seed: 7)
        let inputs: [[UInt8]] = [
            [], [42], Array(repeating: 7, count: 50_000), (0..<60_000).map { _ in UInt8.random(in: 0...255, using: &generator) },
            (0..<60_000).map { UInt8(truncatingIfNeeded: $0 * $0 / 7) },
        ]
        for input in inputs {
            let decoded = try await Offload.run { try LZW.decode(LZW.encode(input), limit: input.count) }
            #expect(decoded == input, "\(input.count) bytes")
        }
    }

    @Test func refusesWhatItCannotRead() {
        #expect(throws: RasterError("not a TIFF (no byte-order mark)")) { try TIFFReader(bytes: Array("hello world".utf8)) }
        #expect(throws: RasterError("not a PNG")) { try PNG16.decode(Array("hello world".utf8)) }
        #expect(throws: RasterError.self) { try Zlib.decompress([0x78, 0x9C, 1, 2, 3]) }
    }
}
