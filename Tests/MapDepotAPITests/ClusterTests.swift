import AsyncHTTPClient
import ExportCore
import Foundation
import GeoJSON
import JSONValues
import Logging
import MapDepotAPI
import MapDepotCore
import NIOCore
import ReplicationCore
import S3Storage
import Testing
import TestSupport

/// Issue #5 part 5: PostgreSQL, two `serve` nodes and one `worker` on loopback; 200 exports and a stream of vector
/// changes; one serving node SIGKILLed in the middle. Every task completes exactly once with a valid GeoPackage, every
/// webhook is delivered, and the replica chain is gap-free and equal to a snapshot made afresh. Runs in the PostgreSQL
/// pass (`MAPDEPOT_TEST_POSTGRES_URL`), twice: the nodes sharing one artifact directory (a shared mount), and the
/// nodes sharing nothing on disk, with artifacts in an S3 bucket (moto's server, when `scripts/test` started one).
@Suite(.serialized, .enabled(if: TestBackend.postgresURL != nil)) struct ClusterTests {
    enum Artifacts: String, CaseIterable, Sendable {
        case sharedDirectory, s3
    }

    @Test(arguments: Artifacts.allCases)
    func threeNodesShareTheWorkAndSurviveAKill(artifacts: Artifacts) async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CrashSafetyTests.binary))
        if artifacts == .s3, TestS3.endpoint == nil { return }
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        var s3Environment: [String: String?] = [:]
        var bucket: String?
        if artifacts == .s3, let endpoint = TestS3.endpoint {
            bucket = try await S3ArtifactsTests.freshBucket(endpoint: endpoint)
            s3Environment = [
                "MAPDEPOT_ARTIFACTS_LOCATION": "s3://\(bucket!)/cluster", "MAPDEPOT_ARTIFACTS_S3_ENDPOINT": endpoint,
                "MAPDEPOT_ARTIFACTS_S3_ACCESS_KEY": "test", "MAPDEPOT_ARTIFACTS_S3_SECRET_KEY": "test",
            ]
        }
        let fixture = try await BinaryFixture.make(
            "cluster", subject: "agency", scopes: [.export, .admin, .replicationRead, .replicationWrite]
        ) { config in
            if let bucket { S3ArtifactsTests.use(bucket: bucket, prefix: "cluster", in: &config) }
        }
        let (directory, config, components, token) = (fixture.directory, fixture.config, fixture.components, fixture.token)
        defer { components.close() }
        _ = try await components.replication.createLayer(LayerDraft(layerId: 1, layerName: "points", geometryTypes: [.point]))

        var nodes = 0
        func node(_ arguments: [String]) throws -> Process {
            // With S3 artifacts every node has a data directory of its own: nothing is shared on disk.
            nodes += 1
            let dataDir = artifacts == .s3 ? "\(directory)/node-\(nodes)" : directory
            let settings: [String: String?] = [
                "MAPDEPOT_DATABASE_URL": config.database.url,
                "MAPDEPOT_EXPORT_LEASE_SECONDS": "2",
                "MAPDEPOT_WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "true",
                "MAPDEPOT_WEBHOOKS_TIMEOUT_SECONDS": "1",
                "MAPDEPOT_WEBHOOKS_FIRST_RETRY_SECONDS": "0.2",
                "MAPDEPOT_REPLICATION_DELTA_INTERVAL_SECONDS": "0.5",
                "MAPDEPOT_REPLICATION_SCHEDULER_CHECK_SECONDS": "0.2",
                "MAPDEPOT_REPLICATION_CHAIN_LEASE_SECONDS": "2",
            ]
            let process = CrashSafetyTests.mapdepot(arguments, dataDir: dataDir, settings: settings.merging(s3Environment) { _, new in new })
            try process.run()
            return process
        }
        let ports = [try CrashSafetyTests.freePort(), try CrashSafetyTests.freePort()]
        let servers = try ports.map { try node(["serve", "--port", "\($0)"]) }
        let worker = try node(["worker"])
        defer {
            for process in servers + [worker] where process.isRunning { process.terminate() }
        }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = client.shutdown() }
        let bases = ports.map { "http://127.0.0.1:\($0)" }
        for base in bases { try await CrashSafetyTests.waitUntilLive(client, base) }

        // 200 distinct small exports, alternating between the two serving nodes, and vector changes.
        var ids: [Int] = []
        for index in 0..<200 {
            let x = -179.0 + Double(index % 100) * 3.5
            let y = index < 100 ? 10.0 : -30.0
            let roi = #"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"maxResolutionDeg":0.17578125},"geometry":{"type":"Polygon","coordinates":[[[\#(x),\#(y)],[\#(x + 1),\#(y)],[\#(x + 1),\#(y + 1)],[\#(x),\#(y + 1)],[\#(x),\#(y)]]]}}]}"#
            let body = #"{"catalogRecordID":"\#(TestServer.recordID)","domain":"RASTER","artifactCRS":"4326","webhooks":[{"url":"\#(receiver.url)","events":["TASK_COMPLETED"]}],"ROI":\#(roi)}"#
            // After the kill, the survivor takes every request.
            let base = index > 100 ? bases[1] : bases[index % 2]
            let (status, data) = try await CrashSafetyTests.request(client, "POST", base + "/export-tasks", token: token, body: body)
            #expect(status == 201)
            ids.append(Int(try JSONValue.parse(data).objectValue?["id"]?.numberValue ?? 0))
            if index % 10 == 0 {
                // A new point each time, and now and then the delete of one made two change sets before.
                let deletes = index % 40 == 30 ? #"["{p\#(index / 10 - 2)}"]"# : "[]"
                let changes = #"{"upserts":{"type":"FeatureCollection","features":[{"type":"Feature","id":"{p\#(index / 10)}","properties":{"n":\#(index)},"geometry":{"type":"Point","coordinates":[\#(x),1]}}]},"deletes":\#(deletes)}"#
                let applied = try await CrashSafetyTests.request(client, "POST", base + "/layers/1/changes", token: token, body: changes)
                #expect(applied.0 == 200, "\(String(decoding: applied.1, as: UTF8.self))")
            }
            if index == 100 {
                // Kill the first serving node in the middle of the work.
                kill(servers[0].processIdentifier, SIGKILL)
            }
        }
        #expect(ids.count == 200 && ids.allSatisfy { $0 > 0 })

        // Every task completes, exactly once (watched in the shared database, one query per look).
        let live = ids
        var completed = 0
        for _ in 0..<900 {
            completed = try await components.taskStore.tasks(customer: "agency", limit: 1_000, status: .completed).count
            if completed == live.count { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(completed == live.count)
        let last = try await CrashSafetyTests.request(client, "GET", bases[1] + "/export-tasks/\(live[199])", token: token)
        #expect(try JSONValue.parse(last.1).objectValue?["status"] == .string("COMPLETED"))
        var packages: [String] = []
        for id in live {
            let transitions = try await components.taskStore.transitions(id: id).map(\.to)
            #expect(transitions.filter { $0 == .completed }.count == 1, "task \(id): \(transitions)")
            let task = try #require(try await components.taskStore.task(id: id, customer: nil))
            let package = try await components.fetchArtifact(task.artifacts[0].key)
            packages.append(package)
        }
        #expect(Set(packages).count == live.count)
        #expect(try await GDAL.validateMany(packages).isEmpty)

        // Every webhook delivered, at least once, to one receiver of all three nodes' outbox.
        for _ in 0..<300 where Set(receiver.acceptedCalls.compactMap { try? JSONValue.parse($0.body).objectValue?["data"]?.objectValue?["id"]?.numberValue }).count < live.count {
            try await Task.sleep(for: .milliseconds(100))
        }
        let notified = Set(receiver.acceptedCalls.compactMap { try? JSONValue.parse($0.body).objectValue?["data"]?.objectValue?["id"]?.numberValue }.map(Int.init))
        #expect(notified == Set(live))

        // The replica chain: gap-free, and the first snapshot plus every delta equals a fresh snapshot.
        let replication = components.replication
        let deltaQuery = try ReplicaQuery(parameters: ["layer_id": "1", "geometry_type": "point", "replica_type": "delta", "sort": "asc"])
        let snapshotQuery = try ReplicaQuery(parameters: ["layer_id": "1", "geometry_type": "point", "replica_type": "snapshot", "sort": "asc"])
        let fresh = try #require(try await replication.producer.produce(layerId: 1, type: .point, replicaType: .snapshot))
        let snapshots = try await replication.replicas(snapshotQuery)
        let deltas = try await replication.replicas(deltaQuery)
        let first = try #require(snapshots.first)
        var sequence = first.changeSequence
        var state = try await Self.features(first, components)
        for delta in deltas where delta.changeSequence > first.changeSequence {
            #expect(delta.fromChangeSequence == sequence, "gap before delta #\(delta.sequenceNumber)")
            sequence = delta.changeSequence
            let (upserts, deleted) = try await Self.delta(delta, components)
            for id in deleted { state[id] = nil }
            for (id, feature) in upserts { state[id] = feature }
        }
        #expect(sequence == fresh.changeSequence)
        #expect(state == (try await Self.features(fresh, components)))
        #expect((try await replication.layer(id: 1)).lastSequence == 20)
    }

    /// A replica's features without their `diff`, by id.
    static func features(_ replica: Replica, _ components: MapDepotComponents) async throws -> [String: JSONValue] {
        try await delta(replica, components).0
    }

    static func delta(_ replica: Replica, _ components: MapDepotComponents) async throws -> ([String: JSONValue], [String]) {
        var features: [String: JSONValue] = [:]
        var deleted: [String] = []
        for file in replica.files {
            let path = try await components.fetchArtifact(file.key)
            let listing = try await Shell.run("unzip", ["-Z1", path]).split(separator: "\n").map(String.init)
            for entry in listing {
                let json = try JSONValue.parse(Data(try await Shell.run("unzip", ["-p", path, entry]).utf8))
                if entry.hasPrefix("deleted_") {
                    deleted += (json.arrayValue ?? []).compactMap(\.stringValue)
                } else {
                    for feature in json.objectValue?["features"]?.arrayValue ?? [] {
                        var object = feature.objectValue ?? [:]
                        object["diff"] = nil
                        features[object["id"]?.stringValue ?? ""] = .object(object)
                    }
                }
            }
        }
        return (features, deleted)
    }
}
