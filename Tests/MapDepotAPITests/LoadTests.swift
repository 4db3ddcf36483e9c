import AsyncHTTPClient
import ExportCore
import Foundation
import GeoJSON
import JSONValues
import Logging
import MapDepotAPI
import MapDepotCore
import NIOCore
import NIOHTTP1
import ReplicationCore
import Synchronization
import Testing
import TestSupport

/// Issue #9: the real binary under 256 concurrent clients for 20 s, mixed — identical and distinct exports from four
/// customers, task reads and lists, estimates, ranged downloads, change sets, replica listings, and SSE streams held
/// open the whole time. Every request is answered, none with a 5xx, `/liveness` answers within 1 s throughout,
/// equivalent requests share one job and no customer passes its active-task limit. (Eight clients deadlocked the
/// server before.) The server is also stopped with SIGTERM and must exit 0.
@Suite(.serialized) struct LoadTests {
    static let clients = 256
    static let streams = 16
    static let duration: Duration = .seconds(20)
    static let limit = 5

    /// What the load saw, shared by every client task.
    final class Tally: Sendable {
        struct Counts: Sendable {
            var requests = 0
            var statuses: [String: Int] = [:]
            var unexpected: [String] = []
            var identicalTasks: Set<Int> = []
            var slowestLiveness: Duration = .zero
            var livenessChecks = 0
            var streamsOpened = 0
        }

        let counts = Mutex(Counts())

        func record(_ operation: String, status: Int?, allowed: Set<Int>, detail: String = "") {
            counts.withLock { counts in
                counts.requests += 1
                counts.statuses["\(operation) \(status.map(String.init) ?? "error")", default: 0] += 1
                if status.map({ !allowed.contains($0) }) ?? true, counts.unexpected.count < 20 {
                    counts.unexpected.append("\(operation): \(status.map(String.init) ?? "no answer") \(detail.prefix(200))")
                }
            }
        }
    }

    static func roi(_ x: Double, _ y: Double, size: Double = 1, zoom: Int = 3) -> String {
        let resolution = 0.703125 / Double(1 << zoom)
        return #"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"maxResolutionDeg":\#(resolution)},"geometry":{"type":"Polygon","coordinates":[[[\#(x),\#(y)],[\#(x + size),\#(y)],[\#(x + size),\#(y + size)],[\#(x),\#(y + size)],[\#(x),\#(y)]]]}}]}"#
    }

    static func body(roi: String) -> String {
        #"{"catalogRecordID":"\#(TestServer.recordID)","domain":"RASTER","artifactCRS":"4326","webhooks":[],"ROI":\#(roi)}"#
    }

    @Test func twoHundredFiftySixClientsForTwentySeconds() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CrashSafetyTests.binary))
        let fixture = try await BinaryFixture.make(
            "load", subject: "c0", scopes: [.export, .admin, .replicationRead, .replicationWrite]
        )
        let (directory, config, components) = (fixture.directory, fixture.config, fixture.components)
        defer { components.close() }
        var customers = [fixture.token]
        for customer in 1..<4 {
            customers.append(
                try await components.tokens.create(subject: "c\(customer)", scopes: [.export, .replicationRead, .replicationWrite], lifetime: nil)
            )
        }
        _ = try await components.replication.createLayer(LayerDraft(layerId: 1, layerName: "points", geometryTypes: [.point]))
        let client = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: HTTPClient.Configuration(
                connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: Self.clients + Self.streams + 8)
            )
        )
        defer { _ = client.shutdown() }
        let port = try CrashSafetyTests.freePort()
        let base = "http://127.0.0.1:\(port)"
        func serve(_ extra: [String]) throws -> Process {
            let process = CrashSafetyTests.mapdepot(
                ["serve", "--port", "\(port)"] + extra, dataDir: directory, logLevel: "warning",
                settings: [
                    "MAPDEPOT_DATABASE_URL": config.database.url, "MAPDEPOT_PUBLIC_URL": base,
                    "MAPDEPOT_EXPORT_MAX_ACTIVE_TASKS_PER_CUSTOMER": "\(Self.limit)", "MAPDEPOT_REPLICATION_SCHEDULER_CHECK_SECONDS": "1",
                ]
            )
            try process.run()
            return process
        }

        // Phase 1: one export to download from during the load; then a graceful stop (SIGTERM → exit 0).
        var server = try serve([])
        try await CrashSafetyTests.waitUntilLive(client, base)
        let created = try await CrashSafetyTests.request(client, "POST", base + "/export-tasks", token: customers[0], body: Self.body(roi: Self.roi(-10, 40, size: 20)))
        #expect(created.0 == 201)
        var published = ""
        for _ in 0..<600 {
            let task = try JSONValue.parse(try await CrashSafetyTests.request(client, "GET", base + "/export-tasks/1", token: customers[0]).1).objectValue ?? [:]
            if task["status"] == .string("COMPLETED") {
                published = task["artifacts"]?.arrayValue?.first?.objectValue?["url"]?.stringValue ?? ""
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        try #require(!published.isEmpty, "the first export did not complete")
        server.terminate()
        #expect(try await CrashSafetyTests.waitForExit(server, timeout: 30) == 0, "SIGTERM must end the server with exit code 0")

        // Phase 2: the load, with no worker, so that every admitted task stays PENDING and the limit can be counted
        // at the end.
        server = try serve(["--no-worker"])
        // A server that hangs would outlive the test; the graceful stop is asserted below.
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        try await CrashSafetyTests.waitUntilLive(client, base)
        let tally = Tally()
        let (tokens, artifactURL) = (customers, published)
        let identical = Self.body(roi: Self.roi(100, -10, size: 5))

        // The identical export first, 8 requests at once from each customer: one job for all 32. (Inside the load a
        // customer could reach its limit with distinct exports before its first identical request, and a share of a
        // pending job counts, so it would be refused.)
        let firstShares = await withTaskGroup(of: (Int, Int?).self) { group in
            for index in 0..<32 {
                group.addTask {
                    guard let (status, data) = try? await CrashSafetyTests.request(client, "POST", base + "/export-tasks", token: tokens[index % 4], body: identical)
                    else { return (0, nil) }
                    return (status, (try? JSONValue.parse(data))?.objectValue?["id"]?.numberValue.map { Int($0) })
                }
            }
            return await group.reduce(into: [(Int, Int?)]()) { $0.append($1) }
        }
        #expect(firstShares.allSatisfy { [200, 201].contains($0.0) && $0.1 != nil }, "\(firstShares)")
        #expect(Set(firstShares.compactMap(\.1)).count == 4, "one task per customer: \(firstShares)")
        let deadline = ContinuousClock.now + Self.duration

        @Sendable func call(
            _ operation: String, _ method: String, _ url: String, token: String?, body: String? = nil, headers: [(String, String)] = [],
            allowed: Set<Int>
        ) async -> (Int, Data)? {
            var request = HTTPClientRequest(url: url)
            request.method = HTTPMethod(rawValue: method)
            if let token { request.headers.add(name: "x-api-key", value: token) }
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            if let body {
                request.headers.add(name: "content-type", value: "application/json")
                request.body = .bytes(ByteBuffer(string: body))
            }
            do {
                let response = try await client.execute(request, timeout: .seconds(15))
                let bytes = try await response.body.collect(upTo: 8 << 20)
                let status = Int(response.status.code)
                tally.record(operation, status: status, allowed: allowed, detail: String(buffer: bytes))
                return (status, Data(bytes.readableBytesView))
            } catch {
                tally.record(operation, status: nil, allowed: allowed, detail: "\(error)")
                return nil
            }
        }

        await withTaskGroup(of: Void.self) { group in
            // /liveness every 100 ms, each within 1 s.
            group.addTask {
                while ContinuousClock.now < deadline {
                    let start = ContinuousClock.now
                    _ = await call("liveness", "GET", base + "/liveness", token: nil, allowed: [200])
                    let took = ContinuousClock.now - start
                    tally.counts.withLock {
                        $0.slowestLiveness = max($0.slowestLiveness, took)
                        $0.livenessChecks += 1
                    }
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }
            // SSE streams held open on a PENDING task until the load ends: the first event, then heartbeats.
            for index in 0..<Self.streams {
                group.addTask {
                    let token = tokens[index % 4]
                    guard let (status, data) = await call("identical POST", "POST", base + "/export-tasks", token: token, body: identical, allowed: [200, 201]),
                        status < 300, let id = (try? JSONValue.parse(data))?.objectValue?["id"]?.numberValue
                    else { return }
                    var request = HTTPClientRequest(url: base + "/export-tasks/\(Int(id))/events")
                    request.headers.add(name: "x-api-key", value: token)
                    do {
                        let response = try await client.execute(request, deadline: .now() + .seconds(30))
                        var sawEvent = false
                        for try await chunk in response.body {
                            if !sawEvent, String(buffer: chunk).contains("event: task") {
                                sawEvent = true
                                tally.counts.withLock { $0.streamsOpened += 1 }
                            }
                            if ContinuousClock.now >= deadline { break }
                        }
                        tally.record("events", status: Int(response.status.code), allowed: [200])
                    } catch {
                        tally.record("events", status: nil, allowed: [], detail: "\(error)")
                    }
                }
            }
            for index in 0..<Self.clients {
                group.addTask {
                    let token = tokens[index % 4]
                    var ownTask: Int?
                    var iteration = 0
                    while ContinuousClock.now < deadline {
                        iteration += 1
                        switch (index + iteration) % 8 {
                        case 0:
                            if let (status, data) = await call("identical POST", "POST", base + "/export-tasks", token: token, body: identical, allowed: [200, 201]),
                                status < 300, let id = (try? JSONValue.parse(data))?.objectValue?["id"]?.numberValue
                            {
                                ownTask = Int(id)
                                tally.counts.withLock { _ = $0.identicalTasks.insert(Int(id)) }
                            }
                        case 1:
                            let x = -170 + Double((index * 7 + iteration) % 300)
                            _ = await call("distinct POST", "POST", base + "/export-tasks", token: token, body: Self.body(roi: Self.roi(x, -60 + Double(iteration % 100))), allowed: [201, 200, 429])
                        case 2:
                            _ = await call("GET task", "GET", base + "/export-tasks/\(ownTask ?? 1)", token: token, allowed: [200, 404])
                        case 3:
                            _ = await call("GET tasks", "GET", base + "/export-tasks?limit=10", token: token, allowed: [200])
                        case 4:
                            _ = await call("estimate", "POST", base + "/export-tasks/estimate", token: token, body: Self.body(roi: Self.roi(Double(index % 170), 0)), allowed: [200])
                        case 5:
                            _ = await call("ranged download", "GET", artifactURL, token: nil, headers: [("Range", "bytes=\(iteration % 1000)-\(iteration % 1000 + 4095)")], allowed: [206])
                        case 6:
                            let id = "{l\(index)-\(iteration)}"
                            let changes = #"{"upserts":{"type":"FeatureCollection","features":[{"type":"Feature","id":"\#(id)","properties":{"n":\#(iteration)},"geometry":{"type":"Point","coordinates":[\#(index % 180),\#(iteration % 90)]}}]},"deletes":[]}"#
                            _ = await call("changes", "POST", base + "/layers/1/changes", token: token, body: changes, allowed: [200])
                        default:
                            _ = await call("replicas", "GET", base + "/replica?layer_id=1&geometry_type=point&replica_type=delta", token: token, allowed: [200])
                        }
                        try? await Task.sleep(for: .milliseconds(20))
                    }
                }
            }
        }

        let counts = tally.counts.withLock { $0 }
        let summary = counts.statuses.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        print("load: \(counts.requests) requests in \(Self.duration); slowest /liveness \(counts.slowestLiveness); \(summary)")
        #expect(counts.unexpected.isEmpty, "\(counts.unexpected)")
        #expect(counts.requests > Self.clients * 5, "\(summary)")
        #expect(counts.livenessChecks > 50)
        #expect(counts.slowestLiveness < .seconds(1))
        #expect(counts.streamsOpened == Self.streams)
        #expect(!counts.statuses.keys.contains { $0.hasSuffix(" 500") || $0.hasSuffix(" 503") || $0.hasSuffix("error") })
        // One job for the identical requests, whoever sent them.
        var jobs = Set<Int>()
        for id in counts.identicalTasks {
            jobs.insert(try #require(try await components.taskStore.task(id: id, customer: nil)).jobId)
        }
        #expect(counts.identicalTasks.count == 4)
        #expect(jobs.count == 1)
        // No customer over its limit (its share of the identical export counts too).
        for customer in 0..<4 {
            let active = try await components.taskStore.activeTaskCount(customer: "c\(customer)")
            #expect(active <= Self.limit, "customer c\(customer) has \(active) active tasks")
        }
        server.terminate()
        #expect(try await CrashSafetyTests.waitForExit(server, timeout: 30) == 0)
    }
}
