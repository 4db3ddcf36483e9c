import ArgumentParser
import ExportCore
import Foundation
import GeoJSON
import JSONValues
import Logging
import MapDepotAPI
import MapDepotCore
import ReplicationCore

/// `mapdepot-bench http` (issue #9): Debian's `wrk` drives `mapdepot serve` with many connections; req/s and
/// p50/p99 for `/liveness` (the server's own ceiling), a task, a replica listing, a ranged download and an estimate,
/// each also as a ratio to `/liveness`. Targets at 64 connections: `GET /export-tasks/{id}` ≥ 50 % of `/liveness`
/// and ≥ 10,000 req/s, p99 ≤ 20 ms.
struct BenchHTTP: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "http", abstract: "Requests/s and latency of the API under wrk.")

    @Option(help: "The Blue Marble pyramid ({z}/{x}/{y}.png).") var tilesDir = "./data/demo/bluemarble"
    @Option(help: "Connections wrk keeps open.") var connections = 64
    @Option(help: "Seconds per endpoint.") var seconds = 10
    @Option(help: "PostgreSQL server for a scratch database (default: SQLite state).") var databaseURL: String?

    struct Result {
        var name: String
        var requestsPerSecond: Double
        var p50: String
        var p99: String
        var errors: String
    }

    func run() async throws {
        let work = NSTemporaryDirectory() + "mapdepot-bench-http-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: work) }
        let database = try databaseURL.map(BenchCluster.scratch)
        let (config, components) = try await BenchCluster.setUp(work: work, database: database, tiles: tilesDir)
        let token = try await components.tokens.create(subject: "bench", scopes: [.export, .replicationRead, .replicationWrite], lifetime: nil)
        // One completed export (for the task and the ranged download), one layer with a snapshot.
        let request = #"{"catalogRecordID":"\#(BenchCluster.record)","domain":"RASTER","artifactCRS":"4326","webhooks":[],"ROI":{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"maxResolutionDeg":0.17578125},"geometry":{"type":"Polygon","coordinates":[[[-10,35],[30,35],[30,60],[-10,60],[-10,35]]]}}]}}"#
        let (task, _) = try await components.exports.create(ExportRequest(json: try JSONValue.parse(Data(request.utf8))), customer: "bench")
        if let job = try await components.taskStore.claimNextJob(now: Date(), lease: JobLease(owner: components.worker.node, until: .distantFuture)) {
            await components.worker.execute(job)
        }
        guard let key = try await components.taskStore.task(id: task.id, customer: nil)?.artifacts.first?.key else {
            throw ValidationError("the export to download from did not complete")
        }
        // 64 more tasks (distinct ROIs, so distinct jobs), read round robin: no two concurrent reads share a row.
        var others: [Int] = []
        for index in 0..<64 {
            let west = -10 + Double(index) * 0.25
            let roi = #"{"type":"Polygon","coordinates":[[[\#(west),35],[\#(west + 5),35],[\#(west + 5),40],[\#(west),40],[\#(west),35]]]}"#
            let body = request.replacingOccurrences(of: #"{"type":"Polygon","coordinates":[[[-10,35],[30,35],[30,60],[-10,60],[-10,35]]]}"#, with: roi)
            others.append(try await components.exports.create(ExportRequest(json: try JSONValue.parse(Data(body.utf8))), customer: "bench").0.id)
        }
        let roundRobin = "local ids = {\(others.map(String.init).joined(separator: ","))}\nlocal n = 0\n"
            + #"request = function() n = n + 1; return wrk.format(nil, "/export-tasks/" .. ids[n % #ids + 1]) end"#
        _ = try await components.replication.createLayer(LayerDraft(layerId: 1, layerName: "points", geometryTypes: [.point]))
        components.close()

        let (server, base) = try await Self.serve(
            dataDir: config.dataDir, settings: ["MAPDEPOT_DATABASE_URL": config.database.url, "MAPDEPOT_REPLICATION_SCHEDULER_CHECK_SECONDS": "3600"]
        )
        defer { server.terminate() }
        let estimate = request.replacingOccurrences(of: "\"", with: "\\\"")
        let endpoints: [(String, String, String?)] = [
            ("GET /liveness", "/liveness", nil),
            ("GET /export-tasks/{id}", "/export-tasks/\(task.id)", nil),
            ("GET /export-tasks/{id}, 64 ids", "/export-tasks/\(task.id)", roundRobin),
            ("GET /replica?…", "/replica?layer_id=1&geometry_type=point&replica_type=snapshot", nil),
            ("GET ranged download (64 KiB)", "/downloads/\(key)", #"wrk.headers["Range"] = "bytes=0-65535""#),
            ("POST /export-tasks/estimate", "/export-tasks/estimate", #"wrk.method = "POST"; wrk.body = "\#(estimate)"; wrk.headers["Content-Type"] = "application/json""#),
        ]
        var results: [Result] = []
        for (name, path, lua) in endpoints {
            let script = "\(work)/bench.lua"
            try (#"wrk.headers["x-api-key"] = "\#(token)""# + "\n" + (lua ?? "") + "\n").write(toFile: script, atomically: true, encoding: .utf8)
            let (_, output) = try BenchProcess.run(
                "/usr/bin/env", ["wrk", "-t2", "-c\(connections)", "-d\(seconds)s", "--latency", "-s", script, base + path]
            )
            results.append(Self.parse(name, output))
        }
        let ceiling = results[0].requestsPerSecond
        print("MapDepot HTTP, \(connections) connections, \(seconds) s each (wrk -t2), \(database == nil ? "SQLite" : "PostgreSQL") state:")
        for result in results {
            let columns = [
                result.name.padding(toLength: 30, withPad: " ", startingAt: 0), String(format: "%9.0f req/s", result.requestsPerSecond),
                "p50 " + result.p50.padding(toLength: 8, withPad: " ", startingAt: 0), "p99 " + result.p99.padding(toLength: 8, withPad: " ", startingAt: 0),
                String(format: "%5.0f %% of /liveness", result.requestsPerSecond / ceiling * 100), result.errors,
            ]
            print(columns.joined(separator: "  "))
        }
        for taskResult in results[1...2] {
            print(
                String(
                    format: "target %@: ≥ 50 %% of /liveness (%.0f %%), ≥ 10,000 req/s (%.0f), p99 ≤ 20 ms (%@)",
                    taskResult.name as NSString, taskResult.requestsPerSecond / ceiling * 100, taskResult.requestsPerSecond, taskResult.p99 as NSString
                )
            )
        }
    }

    /// Requests/sec and the 50 % and 99 % latencies from wrk's `--latency` report.
    static func parse(_ name: String, _ output: String) -> Result {
        var result = Result(name: name, requestsPerSecond: 0, p50: "?", p99: "?", errors: "")
        for line in output.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if line.hasPrefix("Requests/sec:"), let value = fields.last.flatMap({ Double($0) }) { result.requestsPerSecond = value }
            if line.hasPrefix("50%"), fields.count > 1 { result.p50 = String(fields[1]) }
            if line.hasPrefix("99%"), fields.count > 1 { result.p99 = String(fields[1]) }
            if line.hasPrefix("Non-2xx") || line.hasPrefix("Socket errors") { result.errors += (result.errors.isEmpty ? "" : "; ") + line }
        }
        return result
    }
}

extension BenchHTTP {
    /// `mapdepot serve --no-worker` on a random loopback port with `settings` (`MAPDEPOT_…`) over this environment, no
    /// rate limit (the server is measured, not one client's share), once it answers `/liveness`; the caller terminates it.
    static func serve(dataDir: String, settings: [String: String?]) async throws -> (Process, String) {
        let port = Int.random(in: 20_000..<40_000)
        let base = "http://127.0.0.1:\(port)"
        let server = Process()
        server.executableURL = URL(fileURLWithPath: try MapDepotBinary.path)
        server.arguments = ["serve", "--data-dir", dataDir, "--port", "\(port)", "--no-worker", "--log-level", "error"]
        var environment = ProcessInfo.processInfo.environment
        environment["MAPDEPOT_PUBLIC_URL"] = base
        environment["MAPDEPOT_HTTP_RATE_LIMIT_PER_SECOND"] = "0"
        for (name, value) in settings { environment[name] = value }
        server.environment = environment
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        for _ in 0..<100 {
            if (try? BenchProcess.run("/usr/bin/env", ["curl", "-sf", "-o", "/dev/null", base + "/liveness"])) != nil { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return (server, base)
    }
}

