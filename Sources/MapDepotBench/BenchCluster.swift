import ArgumentParser
import ExportCore
import Foundation
import GeoJSON
import JSONValues
import Logging
import MapDepotAPI
import MapDepotCore

/// `mapdepot-bench cluster` (issue #5): small exports per minute with 1, 2 and 3 `mapdepot worker` processes on
/// one PostgreSQL database, and one large export's tiles/s with PostgreSQL state vs SQLite state (tiles never
/// go through the state database, so they should be within 10 %).
struct BenchCluster: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cluster", abstract: "Throughput with 1–3 worker processes on PostgreSQL.")

    @Option(help: "A PostgreSQL server for scratch databases (postgres://user@host:port/postgres).") var databaseURL: String
    @Option(help: "The Blue Marble pyramid ({z}/{x}/{y}.png).") var tilesDir = "./data/demo/bluemarble"
    @Option(help: "Small exports per round.") var tasks = 300

    func run() async throws {
        let work = NSTemporaryDirectory() + "mapdepot-bench-cluster-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: work) }
        var rates: [Int: Double] = [:]
        for workers in 1...3 {
            let (config, components) = try await Self.setUp(work: "\(work)/\(workers)", database: try Self.scratch(databaseURL), tiles: tilesDir)
            defer { components.close() }
            // Queue the tasks first, then start the workers and time until all are done.
            for index in 0..<tasks {
                let x = -179.0 + Double(index % 100) * 3.5
                let y = Double(index / 100) * 20 - 60
                let body = #"{"catalogRecordID":"\#(Self.record)","domain":"RASTER","artifactCRS":"4326","webhooks":[],"ROI":{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"maxResolutionDeg":0.0439453125},"geometry":{"type":"Polygon","coordinates":[[[\#(x),\#(y)],[\#(x + 2),\#(y)],[\#(x + 2),\#(y + 2)],[\#(x),\#(y + 2)],[\#(x),\#(y)]]]}}]}}"#
                _ = try await components.exports.create(ExportRequest(json: try JSONValue.parse(Data(body.utf8))), customer: "bench")
            }
            let started = Date()
            let processes = try (0..<workers).map { _ in try Self.worker(config) }
            defer { processes.forEach { $0.terminate() } }
            while try await components.taskStore.tasks(customer: "bench", limit: 10_000, status: .completed).count < tasks {
                try await Task.sleep(for: .milliseconds(100))
            }
            let seconds = Date().timeIntervalSince(started)
            rates[workers] = Double(tasks) / seconds * 60
            print(String(format: "%d worker process(es): %d exports in %.1f s = %.0f exports/minute", workers, tasks, seconds, rates[workers]!))
        }
        print(String(format: "speed-up: 2 workers %.2f×, 3 workers %.2f× (2 cores: expect little past 2)", rates[2]! / rates[1]!, rates[3]! / rates[1]!))

        // Whole-world exports (682 tiles each, distinct ROIs so none is deduplicated): tiles/s with each state
        // backend, alternating so that the page cache favours neither.
        var tiles: [String: Int] = [:]
        var seconds: [String: Double] = [:]
        var setups: [String: MapDepotComponents] = [:]
        for backend in ["SQLite", "PostgreSQL"] {
            let database = backend == "SQLite" ? nil : try Self.scratch(databaseURL)
            setups[backend] = try await Self.setUp(work: "\(work)/big-\(backend)", database: database, tiles: tilesDir).1
        }
        defer { setups.values.forEach { $0.close() } }
        for round in 0..<10 {
            let backend = round % 2 == 0 ? "SQLite" : "PostgreSQL"
            let components = setups[backend]!
            let corner = -180 + Double(round) * 0.001
            let world = #"{"catalogRecordID":"\#(Self.record)","domain":"RASTER","artifactCRS":"4326","webhooks":[],"ROI":{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[\#(corner),-90],[180,-90],[180,90],[-180,90],[\#(corner),-90]]]}}]}}"#
            let (task, _) = try await components.exports.create(ExportRequest(json: try JSONValue.parse(Data(world.utf8))), customer: "bench")
            let job = try await components.taskStore.claimNextJob(now: Date(), lease: JobLease(owner: components.worker.node, until: .distantFuture))
            let started = Date()
            await components.worker.execute(job!)
            seconds[backend, default: 0] += Date().timeIntervalSince(started)
            tiles[backend, default: 0] += try await components.taskStore.task(id: task.id, customer: nil)?.estimatedTiles ?? 0
        }
        for backend in ["SQLite", "PostgreSQL"] {
            print(String(format: "%@ state: %d tiles in %.2f s = %.0f tiles/s (5 whole-world exports)", backend, tiles[backend]!, seconds[backend]!, Double(tiles[backend]!) / seconds[backend]!))
        }
        let ratio = (Double(tiles["PostgreSQL"]!) / seconds["PostgreSQL"]!) / (Double(tiles["SQLite"]!) / seconds["SQLite"]!)
        print(String(format: "PostgreSQL vs SQLite state: %.0f %% (target: within 10 %%)", ratio * 100))
    }

    static let record = "6f4c3a52-4b6e-4d8e-9a55-0a1f2b3c4d5e"

    /// A new empty database on the server.
    static func scratch(_ server: String) throws -> String {
        guard var components = URLComponents(string: server) else { throw ValidationError("--database-url is not a URL") }
        let name = "bench_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        _ = try BenchProcess.run("/usr/bin/env", ["psql", server, "-q", "-c", "CREATE DATABASE \(name)"])
        components.path = "/\(name)"
        return components.string!
    }

    static func setUp(work: String, database: String?, tiles: String) async throws -> (AppConfig, MapDepotComponents) {
        var config = AppConfig()
        config.dataDir = work
        config.database.url = database
        config.export.maxActiveTasksPerCustomer = 100_000
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let components = try await MapDepotComponents.open(config: config, logger: logger)
        let source = URL(fileURLWithPath: tiles).standardizedFileURL.path
        _ = try await components.catalog.add(
            CatalogRecordDraft(json: try JSONValue.parse(Data(#"{"id":"\#(record)","productId":"bluemarble","source":{"type":"directory","path":"\#(source)"}}"#.utf8)))
        )
        return (config, components)
    }

    static func worker(_ config: AppConfig) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try MapDepotBinary.path)
        process.arguments = ["worker", "--data-dir", config.dataDir, "--log-level", "error"]
        var environment = ProcessInfo.processInfo.environment
        environment["MAPDEPOT_DATABASE_URL"] = config.database.url
        environment["MAPDEPOT_REPLICATION_SCHEDULER_CHECK_SECONDS"] = "60"
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }
}
