import ArgumentParser
import ExportCore
import MapDepotCore
import Foundation
import GRDB
import GeoJSON
import GeoPackage
import Geometry
import TileGrid

/// `mapdepot-bench export`: MapDepot's export against MapProxy (`mapproxy-util export --type geopackage`) and
/// a raw SQLite `INSERT … SELECT` copy of the same tiles, printed as tiles/s and ratios (issue #2).
///
/// The source is a GeoPackage of real-size tiles: the Blue Marble zoom-4 tiles turned into JPEG (quality 90) with GDAL and
/// repeated over every tile of a hexagonal ROI's box down to the zoom where the ROI covers `--tiles` tiles.
/// MapDepot runs as a child process (`mapdepot export`), so its peak RSS is measured alone. MapProxy copies
/// ~110 tiles/s (export-peers §3), so it gets the ROI's upper zooms only, `--mapproxy-tiles` or so.
struct BenchExport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Export throughput vs MapProxy and raw SQLite.")

    @Option(help: "The Blue Marble pyramid ({z}/{x}/{y}.png), as scripts/demo makes it.")
    var tilesDir = "./data/demo/bluemarble"

    @Option(help: "Working directory (default: a new temporary one, removed after).")
    var work: String?

    @Option(help: "Tiles the MapDepot export should write (at least).")
    var tiles = 200_000

    @Option(help: "About how many tiles MapProxy gets (it is slow).")
    var mapproxyTiles = 3_000

    @Flag(help: "Skip MapProxy.")
    var noMapproxy = false

    @Flag(help: "Skip the directory-source comparison.")
    var noDirectory = false

    @Option(help: "Runs of MapDepot and the raw copy; the best of each is reported.")
    var runs = 3

    func run() async throws {
        let directory = work ?? NSTemporaryDirectory() + "mapdepot-bench-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { if work == nil { try? FileManager.default.removeItem(atPath: directory) } }

        let jpegs = try BenchSource.jpegTiles(from: tilesDir, into: directory + "/jpeg")
        let (roi, maxZoom, planned) = try BenchSource.roi(targetTiles: tiles)
        let roiFile = directory + "/roi.geojson"
        try BenchSource.write(roi: roi, maxZoom: maxZoom, to: roiFile)
        print("ROI: hexagon, zoom 0–\(maxZoom), \(planned) tiles; tile payload: \(jpegs.count) Blue Marble JPEGs, avg \(jpegs.reduce(0) { $0 + $1.count } / jpegs.count) bytes")

        let source = directory + "/source.gpkg"
        let sourceTiles = try await BenchSource.makeSource(path: source, roi: roi, maxZoom: maxZoom, payload: jpegs)
        print("source: \(sourceTiles) tiles in \(source)")

        sync()

        // The record goes into a catalog once, as a deployment has it; the export then runs as a child
        // process (same binary, `export --record`), so its peak RSS is its own.
        let state = directory + "/state"
        let recordID = UUID().uuidString.lowercased()
        try BenchProcess.run(
            try MapDepotBinary.path,
            ["catalog", "add", "--data-dir", state, "--id", recordID, "--product-id", "bench", "--source-type", "geopackage", "--path", source]
        )
        let best = try bestOf(state: state, recordID: recordID, roiFile: roiFile, maxZoom: maxZoom, directory: directory) {
            try BenchRawCopy.run(source: source, destination: directory + "/raw.gpkg", roi: roi, maxZoom: maxZoom)
        }
        best.report("GeoPackage source", peer: "raw INSERT…SELECT", runs: runs, planned: planned)

        if !noDirectory {
            // The same tiles as one file each, {z}/{x}/{y}.jpg; the peer is the sqlite3 shell's readfile().
            let tree = directory + "/tree"
            let files = try BenchSource.makeDirectory(path: tree, roi: roi, maxZoom: maxZoom, payload: jpegs)
            let treeRecord = UUID().uuidString.lowercased()
            try BenchProcess.run(
                try MapDepotBinary.path,
                ["catalog", "add", "--data-dir", state, "--id", treeRecord, "--product-id", "bench-tree", "--source-type", "directory", "--path", tree, "--scheme", "xyz", "--format", "jpeg"]
            )
            let plan = try BenchReadfile.plan(at: directory + "/plan.db", roi: roi, maxZoom: maxZoom)
            sync()
            try bestOf(state: state, recordID: treeRecord, roiFile: roiFile, maxZoom: maxZoom, directory: directory) {
                try BenchReadfile.run(tree: tree, plan: plan, destination: directory + "/readfile.gpkg")
            }.report("directory source (\(files) files)", peer: "sqlite3 readfile()", runs: runs, planned: planned)
        }

        var mapproxyRate: Double?
        if !noMapproxy {
            let (count, seconds) = try BenchMapProxy.run(
                directory: directory, source: source, roi: roi, planned: planned, maxZoom: maxZoom, target: mapproxyTiles
            )
            mapproxyRate = Double(count) / seconds
            print(String(format: "mapproxy-util export: %8d tiles in %7.2f s = %9.0f tiles/s", count, seconds, mapproxyRate!))
        }
        if let mapproxyRate {
            print(String(format: "ratio mapdepot / MapProxy:        %.0f× (target ≥ 100×)", Double(planned) / best.ours / mapproxyRate))
        }
    }
}

extension BenchExport {
    /// The best of a run of MapDepot's exports and of its floor's copies.
    struct Comparison {
        var ours: Double
        var copy: Double
        var peer: Double
        var rss: Int
        var phases: String

        /// MapDepot's figure, the floor's, and the ratios, for `planned` tiles.
        func report(_ title: String, peer name: String, runs: Int, planned: Int) {
            let oursRate = Double(planned) / ours
            let peerRate = Double(planned) / peer
            print("\(title), best of \(runs) runs each:")
            print(String(format: "mapdepot export:      %8d tiles in %7.2f s = %9.0f tiles/s end to end (plan, copy, SHA-256, fsync, publish), peak RSS %.0f MB", planned, ours, oursRate, Double(rss) / 1024))
            print("  " + phases)
            print((name + ":").padding(toLength: 22, withPad: " ", startingAt: 0) + String(format: "%8d tiles in %7.2f s = %9.0f tiles/s (copy, close, fsync)", planned, peer, peerRate))
            print("ratio mapdepot / \(name): " + String(format: "%.2f end to end, %.2f copy phase (target ≥ 0.80)", oursRate / peerRate, Double(planned) / copy / peerRate))
        }
    }

    /// Best of `runs` of `mapdepot export` of `recordID` and of `peer`, alternating, each writing a new file.
    func bestOf(
        state: String, recordID: String, roiFile: String, maxZoom: Int, directory: String, peer: () throws -> Double
    ) throws -> Comparison {
        var ours = Double.infinity
        var copy = Double.infinity
        var peerSeconds = Double.infinity
        var rss = 0
        var phases = ""
        for run in 0..<runs {
            let out = directory + "/mapdepot-\(run)"
            let started = Date()
            let (_, output) = try BenchProcess.run(
                try MapDepotBinary.path,
                ["export", "--data-dir", state, "--record", recordID, "--roi", roiFile, "--max-zoom", "\(maxZoom)", "--out", out, "--log-level", "warning"]
            )
            let seconds = Date().timeIntervalSince(started)
            rss = max(rss, Int(BenchProcess.phase("peak RSS", in: output) ?? 0))
            if seconds < ours {
                ours = seconds
                phases = output.split(separator: "\n").first { $0.hasPrefix("phases:") }.map(String.init) ?? ""
            }
            copy = min(copy, BenchProcess.phase("copy", in: output) ?? seconds)
            if run == 0 {
                // The package is whole: SQLite's own check of every page (the bulk writer's trees are three levels
                // deep here and the file passes the lock-byte page at 1 GiB; the suite's packages are smaller).
                let package = try FileManager.default.contentsOfDirectory(atPath: out).first { $0.hasSuffix(".gpkg") } ?? ""
                let (_, check) = try BenchProcess.run("/usr/bin/env", ["sqlite3", "\(out)/\(package)", "PRAGMA integrity_check"])
                print("package check (PRAGMA integrity_check): \(check.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            try? FileManager.default.removeItem(atPath: out)
            sync()
            peerSeconds = min(peerSeconds, try peer())
            sync()
        }
        return Comparison(ours: ours, copy: copy, peer: peerSeconds, rss: rss, phases: phases)
    }
}

/// The benchmark's data.
enum BenchSource {
    /// The zoom-4 Blue Marble tiles as JPEG (quality 90), made once with gdal_translate.
    static func jpegTiles(from pyramid: String, into directory: String) throws -> [Data] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var result: [Data] = []
        let columns = (try FileManager.default.contentsOfDirectory(atPath: "\(pyramid)/4")).sorted()
        guard !columns.isEmpty else { throw ValidationError("no zoom-4 tiles in \(pyramid): run scripts/demo first or pass --tiles-dir") }
        for column in columns {
            for file in try FileManager.default.contentsOfDirectory(atPath: "\(pyramid)/4/\(column)").sorted() where file.hasSuffix(".png") {
                let output = "\(directory)/\(column)_\(file.dropLast(4)).jpg"
                if !FileManager.default.fileExists(atPath: output) {
                    _ = try BenchProcess.run(
                        "/usr/bin/env", ["gdal_translate", "-q", "-of", "JPEG", "-b", "1", "-b", "2", "-b", "3", "-co", "QUALITY=90", "\(pyramid)/4/\(column)/\(file)", output]
                    )
                }
                result.append(try Data(contentsOf: URL(fileURLWithPath: output)))
            }
        }
        return result
    }

    static func hexagon(radius: Double, center: Position = Position(10, 5)) -> PolygonCoordinates {
        let ring = (0...6).map { index -> Position in
            let angle = Double(index % 6) * Double.pi / 3 + 0.2
            return Position(center.longitude + radius * cos(angle), center.latitude + radius * sin(angle) * 0.8)
        }
        return PolygonCoordinates(rings: [ring])
    }

    /// A hexagon and the zoom at which zooms 0…z cover at least `targetTiles` (the radius is scaled to land
    /// near the target).
    static func roi(targetTiles: Int) throws -> (PolygonCoordinates, Int, Int) {
        var radius = 20.0
        for zoom in 6...16 {
            let count = (0...zoom).reduce(0) { $0 + Region(polygons: [hexagon(radius: radius)]).coveringTileCount(zoom: $1) }
            if count >= targetTiles {
                radius *= (Double(targetTiles) / Double(count)).squareRoot() * 1.01
                let final = hexagon(radius: radius)
                let total = (0...zoom).reduce(0) { $0 + Region(polygons: [final]).coveringTileCount(zoom: $1) }
                return (final, zoom, total)
            }
        }
        throw ValidationError("could not size an ROI for \(targetTiles) tiles")
    }

    /// The ROI's tiles at zooms 0…maxZoom as files `{z}/{x}/{y}.jpg`, payloads as in ``makeSource``; returns the count.
    static func makeDirectory(path: String, roi: PolygonCoordinates, maxZoom: Int, payload: [Data]) throws -> Int {
        let region = Region(polygons: [roi])
        var count = 0
        for zoom in 0...maxZoom {
            var made = Set<Int>()
            for tile in region.coveringTiles(zoom: zoom).tiles {
                let column = "\(path)/\(zoom)/\(tile.column)"
                if made.insert(tile.column).inserted {
                    try FileManager.default.createDirectory(atPath: column, withIntermediateDirectories: true)
                }
                let file = "\(column)/\(tile.row).jpg"
                if !FileManager.default.fileExists(atPath: file) {
                    try payload[(tile.column * 7 + tile.row * 13) % payload.count].write(to: URL(fileURLWithPath: file))
                }
                count += 1
            }
        }
        return count
    }

    static func write(roi: PolygonCoordinates, maxZoom: Int, to path: String) throws {
        let collection = FeatureCollection(features: [Feature(geometry: .polygon(roi), properties: [:])])
        try JSONEncoder().encode(collection.json).write(to: URL(fileURLWithPath: path))
    }

    /// Every tile of the ROI's box at zooms 0…maxZoom, payloads cycling through `payload`.
    static func makeSource(path: String, roi: PolygonCoordinates, maxZoom: Int, payload: [Data]) async throws -> Int {
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        let bounds = Region(polygons: [roi]).bounds!
        let writer = try GeoPackageTileWriter(
            path: path,
            options: .init(tableName: "tiles", contentsBounds: bounds, maxZoom: maxZoom, lastChange: Date(timeIntervalSince1970: 0))
        )
        var count = 0
        for zoom in 0...maxZoom {
            let range = WorldCRS84Quad.tileRange(zoom: zoom, covering: bounds)
            var batch: [(TileCoordinate, Data)] = []
            for row in range.rows {
                for column in range.columns {
                    batch.append((TileCoordinate(zoom: zoom, column: column, row: row), payload[(column * 7 + row * 13) % payload.count]))
                    if batch.count == 5_000 {
                        try await writer.append(batch)
                        count += batch.count
                        batch.removeAll(keepingCapacity: true)
                    }
                }
            }
            try await writer.append(batch)
            count += batch.count
        }
        try writer.finish()
        return count
    }
}

/// The raw SQLite peer: the same tiles copied by one `INSERT … SELECT` into an identical tiles table.
enum BenchRawCopy {
    static func run(source: String, destination: String, roi: PolygonCoordinates, maxZoom: Int) throws -> Double {
        try? FileManager.default.removeItem(atPath: destination)
        let queue = try DatabaseQueue(path: destination)
        let region = Region(polygons: [roi])
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA page_size = 65536; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF")
            try db.execute(sql: "CREATE TABLE tiles (id INTEGER PRIMARY KEY AUTOINCREMENT, zoom_level INTEGER NOT NULL, tile_column INTEGER NOT NULL, tile_row INTEGER NOT NULL, tile_data BLOB NOT NULL, UNIQUE (zoom_level, tile_column, tile_row))")
            try db.execute(sql: "CREATE TEMP TABLE plan (z INTEGER, r INTEGER, c INTEGER, PRIMARY KEY (z, r, c)) WITHOUT ROWID")
            try db.inTransaction {
                let insert = try db.makeStatement(sql: "INSERT INTO plan VALUES (?, ?, ?)")
                for zoom in 0...maxZoom {
                    for tile in region.coveringTiles(zoom: zoom).tiles {
                        try insert.execute(arguments: [tile.zoom, tile.row, tile.column])
                    }
                }
                return .commit
            }
            try db.execute(sql: "ATTACH DATABASE ? AS src", arguments: [source])
        }
        let started = Date()
        try queue.writeWithoutTransaction { db in
            try db.inTransaction {
                try db.execute(
                    sql: """
                        INSERT INTO main.tiles (zoom_level, tile_column, tile_row, tile_data)
                        SELECT s.zoom_level, s.tile_column, s.tile_row, s.tile_data FROM temp.plan p
                        JOIN src.tiles s ON s.zoom_level = p.z AND s.tile_column = p.c AND s.tile_row = p.r
                        ORDER BY p.z, p.r, p.c
                        """
                )
                return .commit
            }
        }
        try queue.close()
        let handle = FileHandle(forUpdatingAtPath: destination)
        try handle?.synchronize()
        try handle?.close()
        return Date().timeIntervalSince(started)
    }
}

/// The directory peer: the sqlite3 shell's `readfile()` reading every planned file into an identical tiles table, in
/// one `INSERT … SELECT` over the plan, journal and sync off, then fsync.
enum BenchReadfile {
    /// The planned (zoom, row, column) in a SQLite file of their own, for the shell to attach.
    static func plan(at path: String, roi: PolygonCoordinates, maxZoom: Int) throws -> String {
        try? FileManager.default.removeItem(atPath: path)
        let queue = try DatabaseQueue(path: path)
        let region = Region(polygons: [roi])
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE plan (z INTEGER, r INTEGER, c INTEGER, PRIMARY KEY (z, r, c)) WITHOUT ROWID")
            let insert = try db.makeStatement(sql: "INSERT INTO plan VALUES (?, ?, ?)")
            for zoom in 0...maxZoom {
                for tile in region.coveringTiles(zoom: zoom).tiles {
                    try insert.execute(arguments: [tile.zoom, tile.row, tile.column])
                }
            }
        }
        try queue.close()
        return path
    }

    static func run(tree: String, plan: String, destination: String) throws -> Double {
        try? FileManager.default.removeItem(atPath: destination)
        let script = """
            PRAGMA page_size = 65536; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
            CREATE TABLE tiles (id INTEGER PRIMARY KEY AUTOINCREMENT, zoom_level INTEGER NOT NULL, tile_column INTEGER NOT NULL, tile_row INTEGER NOT NULL, tile_data BLOB NOT NULL, UNIQUE (zoom_level, tile_column, tile_row));
            ATTACH DATABASE '\(plan)' AS p;
            BEGIN;
            INSERT INTO tiles (zoom_level, tile_column, tile_row, tile_data)
              SELECT z, c, r, readfile('\(tree)/' || z || '/' || c || '/' || r || '.jpg') FROM p.plan ORDER BY z, r, c;
            COMMIT;
            """
        let started = Date()
        _ = try BenchProcess.run("/usr/bin/env", ["sqlite3", destination, script])
        let handle = FileHandle(forUpdatingAtPath: destination)
        try handle?.synchronize()
        try handle?.close()
        return Date().timeIntervalSince(started)
    }
}

/// MapProxy's export of the ROI's upper zooms from the same source GeoPackage.
enum BenchMapProxy {
    static func run(directory: String, source: String, roi: PolygonCoordinates, planned: Int, maxZoom: Int, target: Int) throws -> (Int, Double) {
        // The deepest zoom at which the ROI's tiles stay under the target.
        let region = Region(polygons: [roi])
        var levels = 0
        var count = 0
        for zoom in 0...maxZoom {
            let next = count + region.coveringTileCount(zoom: zoom)
            if next > target && zoom > 0 { break }
            count = next
            levels = zoom
        }
        let config = """
            services:
              demo:
            layers:
              - name: bench
                title: bench
                sources: [src_cache]
            caches:
              src_cache:
                grids: [wcrs84]
                sources: []
                cache:
                  type: geopackage
                  filename: \(source)
                  table_name: tiles
            grids:
              wcrs84:
                srs: 'EPSG:4326'
                bbox: [-180, -90, 180, 90]
                origin: 'ul'
                min_res: 0.703125
                num_levels: 20
                tile_size: [256, 256]
            """
        try config.write(toFile: directory + "/mapproxy.yaml", atomically: true, encoding: .utf8)
        let wkt = "POLYGON((" + roi.exterior.map { "\($0.longitude) \($0.latitude)" }.joined(separator: ",") + "))"
        try wkt.write(toFile: directory + "/roi.wkt", atomically: true, encoding: .utf8)
        let destination = directory + "/mapproxy.gpkg"
        try? FileManager.default.removeItem(atPath: destination)
        let started = Date()
        _ = try BenchProcess.run(
            "/usr/bin/env",
            ["mapproxy-util", "export", "-q", "-q", "-f", directory + "/mapproxy.yaml", "--source", "src_cache", "--grid", "wcrs84", "--levels", "0..\(levels)", "--coverage", directory + "/roi.wkt", "--srs", "EPSG:4326", "--dest", destination, "--type", "geopackage", "--force"]
        )
        let seconds = Date().timeIntervalSince(started)
        let written = try DatabaseQueue(path: destination).read { db -> Int in
            let table = try String.fetchOne(db, sql: "SELECT table_name FROM gpkg_contents LIMIT 1") ?? "tiles"
            return try Int.fetchOne(db, sql: "SELECT count(*) FROM \"\(table)\"") ?? 0
        }
        return (written, seconds)
    }
}

/// Runs a child process to the end; returns the largest child's peak RSS in KiB and its standard output.
enum BenchProcess {
    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> (Int, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError("\(executable) \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
        }
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_CHILDREN.rawValue), &usage)
        return (usage.ru_maxrss, output)
    }

    /// The seconds of a phase in `mapdepot export`'s "phases:" line.
    static func phase(_ name: String, in output: String) -> Double? {
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("phases:") }),
            let range = line.range(of: "\(name) ")
        else { return nil }
        return Double(line[range.upperBound...].prefix { $0.isNumber || $0 == "." })
    }
}
