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
import Testing
import TestSupport

/// Issue #4 part 7: the real `mapdepot serve` killed with SIGKILL during a tile write, during publish, and
/// while webhooks are pending; after a restart the task completes with a valid GeoPackage, every webhook is
/// delivered, and nothing is left half-published.
@Suite(.serialized) struct CrashSafetyTests {
    static var binary: String { Fixtures.packageRoot.appendingPathComponent(".build/debug/mapdepot").path }

    /// The real binary running `arguments` on `dataDir`, its settings in `settings` (`MAPDEPOT_…` variables over this
    /// process's own environment; nil removes one), its output discarded. Not started yet.
    static func mapdepot(_ arguments: [String], dataDir: String, logLevel: String = "error", settings: [String: String?]) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments + ["--data-dir", dataDir, "--log-level", logLevel]
        var environment = ProcessInfo.processInfo.environment
        for (name, value) in settings { environment[name] = value }
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        return process
    }

    /// A free loopback port (bound, read, released).
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw FixtureError("no socket") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
        }
        guard bound else { throw FixtureError("could not bind a loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test(arguments: ["tiles:200", "publish", "webhook"])
    func aKilledServerLosesNothing(crashAt: String) async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build the binary first (scripts/test does)")
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        let fixture = try await BinaryFixture.make("crash")
        let (directory, config, components, token) = (fixture.directory, fixture.config, fixture.components, fixture.token)
        defer { components.close() }

        let port = try Self.freePort()
        var server = try Self.start(directory: directory, database: config.database.url, port: port, crashAt: crashAt)
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = client.shutdown() }
        let base = "http://127.0.0.1:\(port)"
        try await Self.waitUntilLive(client, base)
        let body = #"{"catalogRecordID":"\#(TestServer.recordID)","domain":"RASTER","artifactCRS":"4326","webhooks":[{"url":"\#(receiver.url)","events":["TASK_STARTED","TASK_COMPLETED"]}],"ROI":{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[-180,-90],[180,-90],[180,90],[-180,90],[-180,-90]]]}}]}}"#
        let created = try await Self.request(client, "POST", base + "/export-tasks", token: token, body: body)
        #expect(created.0 == 201)

        // The crash point kills it.
        let status = try await Self.waitForExit(server, timeout: 60)
        #expect(status == SIGKILL, "\(crashAt): exit \(status)")

        server = try Self.start(directory: directory, database: config.database.url, port: port, crashAt: nil)
        defer { server.terminate() }
        try await Self.waitUntilLive(client, base)
        var task: [String: JSONValue] = [:]
        for _ in 0..<600 {
            task = try JSONValue.parse(try await Self.request(client, "GET", base + "/export-tasks/1", token: token).1).objectValue ?? [:]
            if task["status"] == .string("COMPLETED") { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(task["status"] == .string("COMPLETED"), "\(crashAt)")
        // Every webhook delivered at least once.
        for _ in 0..<300 where !Set(receiver.acceptedCalls.map(\.event)).isSuperset(of: ["TASK_STARTED", "TASK_COMPLETED"]) {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(Set(receiver.acceptedCalls.map(\.event)).isSuperset(of: ["TASK_STARTED", "TASK_COMPLETED"]), "\(crashAt)")
        var deliveries: [JSONValue] = []
        for _ in 0..<300 {
            deliveries = try JSONValue.parse(try await Self.request(client, "GET", base + "/export-tasks/1/webhooks", token: token).1).arrayValue ?? []
            if deliveries.allSatisfy({ $0.objectValue?["state"] == .string("DELIVERED") }) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(deliveries.allSatisfy { $0.objectValue?["state"] == .string("DELIVERED") }, "\(crashAt): \(deliveries)")

        // A whole, valid package; nothing left staged.
        try await Self.expectWholePackage(task, client: client, directory: directory)
        let staged = (try? FileManager.default.subpathsOfDirectory(atPath: directory + "/artifacts/.staging")) ?? []
        #expect(!staged.contains { $0.hasSuffix(".gpkg") || $0.hasSuffix(".json") }, "\(staged)")
    }

    /// Issue #9 item 8: SIGTERM during an export stops it at a checkpoint and hands it back; the process exits 0
    /// within the grace period; the next start resumes it from that checkpoint (not from its first tile) and it
    /// completes with a valid package. One tile per checkpoint (`export.write.batch` 1) keeps it running long enough
    /// to be caught mid-way.
    @Test func sigtermHandsARunningExportBackAndTheNextStartResumesIt() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build the binary first (scripts/test does)")
        let fixture = try await BinaryFixture.make("sigterm")
        let (directory, config, token) = (fixture.directory, fixture.config, fixture.token)
        defer { fixture.components.close() }
        let port = try Self.freePort()
        let base = "http://127.0.0.1:\(port)"
        func serve(_ log: String) throws -> Process {
            let process = Self.mapdepot(
                ["serve", "--port", "\(port)"], dataDir: directory, logLevel: "info",
                settings: [
                    "MAPDEPOT_EXPORT_WRITE_BATCH": "1", "MAPDEPOT_SHUTDOWN_GRACE_SECONDS": "20",
                    "MAPDEPOT_PUBLIC_URL": base, "MAPDEPOT_DATABASE_URL": config.database.url,
                ]
            )
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            try process.run()
            return process
        }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = client.shutdown() }
        var server = try serve(directory + "/first.log")
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        try await Self.waitUntilLive(client, base)
        let body = #"{"catalogRecordID":"\#(TestServer.recordID)","domain":"RASTER","artifactCRS":"4326","webhooks":[],"ROI":{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[-180,-90],[180,-90],[180,90],[-180,90],[-180,-90]]]}}]}}"#
        let created = try await Self.request(client, "POST", base + "/export-tasks", token: token, body: body)
        #expect(created.0 == 201, "\(String(decoding: created.1, as: UTF8.self))")
        var task: [String: JSONValue] = [:]
        for _ in 0..<400 {
            task = try JSONValue.parse(try await Self.request(client, "GET", base + "/export-tasks/1", token: token).1).objectValue ?? [:]
            if (task["progress"]?.numberValue ?? 0) > 0 { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        try #require(task["status"] == .string("IN_PROGRESS"), "the export must still run when SIGTERM comes: \(task)")

        let stop = ContinuousClock.now
        kill(server.processIdentifier, SIGTERM)
        #expect(try await Self.waitForExit(server, timeout: 40) == 0, "SIGTERM ends the server with exit code 0")
        #expect(ContinuousClock.now - stop < .seconds(25), "within the 20 s grace period")
        let firstLog = (try? String(contentsOfFile: directory + "/first.log", encoding: .utf8)) ?? ""
        #expect(firstLog.contains("export stopped; it resumes from its checkpoint"), "\(firstLog.suffix(2_000))")

        server = try serve(directory + "/second.log")
        try await Self.waitUntilLive(client, base)
        for _ in 0..<1_200 {
            task = try JSONValue.parse(try await Self.request(client, "GET", base + "/export-tasks/1", token: token).1).objectValue ?? [:]
            if task["status"] == .string("COMPLETED") { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(task["status"] == .string("COMPLETED"), "\(task)")
        // Resumed from a checkpoint past the start: "export resumes" with a batch count above zero.
        let secondLog = (try? String(contentsOfFile: directory + "/second.log", encoding: .utf8)) ?? ""
        let resumed = secondLog.split(separator: "\n").first { $0.contains("export resumes") }
        let batch = resumed.flatMap { line in line.split(separator: " ").first { $0.hasPrefix("export.batch=") } }.flatMap { Int($0.dropFirst(13)) }
        #expect((batch ?? 0) > 0, "resumed from its checkpoint: \(resumed.map(String.init) ?? secondLog.suffix(2_000).description)")
        try await Self.expectWholePackage(task, client: client, directory: directory)
        kill(server.processIdentifier, SIGTERM)
        #expect(try await Self.waitForExit(server, timeout: 40) == 0)
    }

    /// The completed task's package, downloaded through its link: its SHA-256 as listed, GDAL-valid, all 682 tiles of the
    /// world to zoom 4.
    static func expectWholePackage(_ task: [String: JSONValue], client: HTTPClient, directory: String) async throws {
        let artifact = try #require(task["artifacts"]?.arrayValue?.first?.objectValue)
        let url = try #require(artifact["url"]?.stringValue)
        let package = try await Self.request(client, "GET", url, token: nil).1
        #expect(sha256Hex(package) == artifact["sha256"]?.stringValue)
        let file = directory + "/check.gpkg"
        try package.write(to: URL(fileURLWithPath: file))
        #expect(try await GDAL.validate(file) == "")
        #expect(try await GDAL.tileDigests(file, table: String((artifact["name"]?.stringValue ?? "").dropLast(5))).count == 682)
    }

    static func start(directory: String, database: String?, port: Int, crashAt: String?) throws -> Process {
        let process = mapdepot(
            ["serve", "--port", "\(port)"], dataDir: directory, logLevel: "warning",
            settings: [
                "MAPDEPOT_WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "true",
                "MAPDEPOT_WEBHOOKS_FIRST_RETRY_SECONDS": "0.1",
                "MAPDEPOT_EXPORT_WRITE_BATCH": "50",
                "MAPDEPOT_EXPORT_LEASE_SECONDS": "2",
                "MAPDEPOT_WEBHOOKS_TIMEOUT_SECONDS": "1",
                "MAPDEPOT_PUBLIC_URL": "http://127.0.0.1:\(port)",
                "MAPDEPOT_DEBUG_CRASH_AT": crashAt,
                "MAPDEPOT_DATABASE_URL": database,
            ]
        )
        try process.run()
        return process
    }

    static func waitForExit(_ process: Process, timeout: Double) async throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning {
            process.terminate()
            return -1
        }
        return process.terminationReason == .uncaughtSignal ? process.terminationStatus : -process.terminationStatus
    }

    static func waitUntilLive(_ client: HTTPClient, _ base: String) async throws {
        for _ in 0..<200 {
            if (try? await request(client, "GET", base + "/liveness", token: nil).0) == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw FixtureError("the server did not come up")
    }

    static func request(_ client: HTTPClient, _ method: String, _ url: String, token: String?, body: String? = nil) async throws -> (Int, Data) {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        if let token { request.headers.add(name: "x-api-key", value: token) }
        if let body {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return (Int(response.status.code), Data(bytes.readableBytesView))
    }
}

/// Issue #3 part 5: `mapdepot layer produce` killed with SIGKILL while writing a replica's files, and after
/// publishing one of its zips, leaves no visible replica; the next run produces it whole.
@Suite(.serialized) struct ReplicaCrashTests {
    @Test(arguments: ["replica:3", "replica-publish"])
    func aKilledProducerLeavesNoVisibleReplica(crashAt: String) async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CrashSafetyTests.binary))
        let directory = try Fixtures.temporaryDirectory("replica-crash")
        let databaseURL = try await TestBackend.freshDatabaseURL()
        func mapdepot(_ arguments: [String], crashAt: String? = nil) async throws -> (Int32, Bool, String) {
            let process = CrashSafetyTests.mapdepot(
                arguments, dataDir: directory,
                settings: [
                    "MAPDEPOT_DEBUG_CRASH_AT": crashAt,
                    "MAPDEPOT_REPLICATION_FEATURES_PER_FILE": "20",
                    "MAPDEPOT_DATABASE_URL": databaseURL,
                    "MAPDEPOT_REPLICATION_CHAIN_LEASE_SECONDS": "1",
                ]
            )
            let result = try await OwnThread.run { try Shell.wait(for: process) }
            return (result.status, process.terminationReason == .uncaughtSignal, result.output)
        }
        _ = try await mapdepot(["layer", "create", "--layer-id", "1", "--layer-name", "cities", "--geometry-type", "point"])
        let cities = Fixtures.sharedData.appendingPathComponent("naturalearth_cities.geojson").path
        #expect(try await mapdepot(["layer", "import", "--layer-id", "1", "--assign-ids", cities]).0 == 0)

        let killed = try await mapdepot(["layer", "produce", "--layer-id", "1", "--geometry-type", "point", "--replica-type", "snapshot"], crashAt: crashAt)
        #expect(killed.1 && killed.0 == SIGKILL, "\(crashAt): \(killed)")
        var config = AppConfig()
        config.dataDir = directory
        config.database.url = databaseURL
        let components = try await MapDepotComponents.open(config: config, logger: Logger(label: "test"))
        defer { components.close() }
        let query = try ReplicaQuery(parameters: ["layer_id": "1", "geometry_type": "point", "replica_type": "snapshot"])
        #expect(try await components.replication.replicas(query).isEmpty)

        // With shared state the dead producer's chain lease must run out first.
        if databaseURL != nil { try await Task.sleep(for: .seconds(1.5)) }
        let produced = try await mapdepot(["layer", "produce", "--layer-id", "1", "--geometry-type", "point", "--replica-type", "snapshot"])
        #expect(produced.0 == 0)
        let replicas = try await components.replication.replicas(query)
        #expect(replicas.count == 1)
        #expect(replicas.first?.files.reduce(0) { $0 + $1.features } == 243)
        // Nothing of the killed run is left: every zip on disk belongs to the visible replica.
        let zips = (try FileManager.default.subpathsOfDirectory(atPath: directory + "/artifacts")).filter { $0.hasSuffix(".zip") }
        #expect(Set(zips) == Set(replicas[0].files.map(\.key)), "\(crashAt): \(zips)")
    }
}
