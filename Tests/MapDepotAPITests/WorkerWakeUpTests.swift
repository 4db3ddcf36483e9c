import AsyncHTTPClient
import ExportCore
import Foundation
import GeoJSON
import JSONValues
import Logging
import MapDepotAPI
import MapDepotCore
import Testing
import TestSupport

/// Issue #5 part 3: a new task starts within a second because idle workers are woken, not because they poll often.
/// The real binary runs with workers that poll only once a minute. On SQLite one `serve` process queues and runs
/// (its export service wakes its own workers); on PostgreSQL a `serve --no-worker` node queues and a separate
/// `worker` process runs, so only `NOTIFY` (the trigger of migration v4, heard by the listener) can wake it in time.
@Suite(.serialized) struct WorkerWakeUpTests {
    static func body(_ index: Int) -> String {
        let x = -170.0 + Double(index) * 10
        return #"{"catalogRecordID":"\#(TestServer.recordID)","domain":"RASTER","artifactCRS":"4326","webhooks":[],"ROI":{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"maxResolutionDeg":0.17578125},"geometry":{"type":"Polygon","coordinates":[[[\#(x),0],[\#(x + 5),0],[\#(x + 5),5],[\#(x),5],[\#(x),0]]]}}]}}"#
    }

    @Test func aQueuedTaskStartsAtOnceThoughWorkersPollOnlyEveryMinute() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CrashSafetyTests.binary), "build the binary first (scripts/test does)")
        let fixture = try await BinaryFixture.make("wake")
        let (directory, config, token) = (fixture.directory, fixture.config, fixture.token)
        defer { fixture.components.close() }

        func node(_ arguments: [String]) throws -> Process {
            let process = CrashSafetyTests.mapdepot(
                arguments, dataDir: directory, settings: ["MAPDEPOT_WORKER_POLL_SECONDS": "60", "MAPDEPOT_DATABASE_URL": config.database.url]
            )
            try process.run()
            return process
        }
        let port = try CrashSafetyTests.freePort()
        let processes = config.database.url == nil
            ? [try node(["serve", "--port", "\(port)"])]
            : [try node(["serve", "--port", "\(port)", "--no-worker"]), try node(["worker"])]
        defer { for process in processes where process.isRunning { process.terminate() } }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = client.shutdown() }
        let base = "http://127.0.0.1:\(port)"
        try await CrashSafetyTests.waitUntilLive(client, base)
        // Let every worker slot find nothing and settle into its minute-long wait (and the listener connect).
        try await Task.sleep(for: .seconds(2))

        for index in 0..<3 {
            let queued = ContinuousClock.now
            let created = try await CrashSafetyTests.request(client, "POST", base + "/export-tasks", token: token, body: Self.body(index))
            #expect(created.0 == 201)
            let id = Int(try JSONValue.parse(created.1).objectValue?["id"]?.numberValue ?? 0)
            func status() async throws -> String {
                let task = try await CrashSafetyTests.request(client, "GET", base + "/export-tasks/\(id)", token: token)
                return try JSONValue.parse(task.1).objectValue?["status"]?.stringValue ?? ""
            }
            var current = "PENDING"
            while current == "PENDING", ContinuousClock.now - queued < .seconds(20) {
                try await Task.sleep(for: .milliseconds(20))
                current = try await status()
            }
            let waited = ContinuousClock.now - queued
            #expect(current != "PENDING", "task \(index) still PENDING after \(waited) on \(TestBackend.name)")
            // ~0.1 s here when idle; the bound leaves room for a loaded CI machine and is still far below the poll.
            #expect(waited < .seconds(15), "task \(index) started after \(waited) on \(TestBackend.name)")
            // Every slot is idle again (waiting for a minute) before the next task is queued.
            while current != "COMPLETED", ContinuousClock.now - queued < .seconds(90) {
                try await Task.sleep(for: .milliseconds(50))
                current = try await status()
            }
            #expect(current == "COMPLETED")
            try await Task.sleep(for: .milliseconds(300))
        }
    }
}
