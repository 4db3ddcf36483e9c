import ExportCore
import Foundation
import GeoJSON
import HTTPTypes
import HummingbirdTesting
import JSONValues
import MapDepotAPI
import MapDepotCore
import NIOCore
import Testing
import TestSupport

/// exporter-trigger v3.2.1's API over the same jobs as `/export-tasks` (issue #12): a caller of MapColonies' trigger
/// gets its answers, its status vocabulary and its callback shape.
@Suite struct TriggerAPITests {
    static func body(callback: String? = nil, maxZoom: Int = 3) throws -> String {
        var feature = try Fixtures.country("France")
        feature.properties = ["maxResolutionDeg": .number(0.703125 / Double(1 << maxZoom))]
        var body: [String: JSONValue] = [
            "dbId": .string(TestServer.recordID), "crs": .string("EPSG:4326"), "priority": .number(0), "description": .string("France for the field"),
            "roi": .object(["type": .string("FeatureCollection"), "features": .array([feature.json])]),
        ]
        if let callback { body["callbackURLs"] = .array([.string(callback)]) }
        return String(decoding: try JSONEncoder().encode(JSONValue.object(body)), as: UTF8.self)
    }

    static func triggerToken(
        _ client: any TestClientProtocol, _ server: TestServer, subject: String = "export-management", scopes: [String] = ["export:trigger"]
    ) async throws -> String {
        let body = #"{"subject":"\#(subject)","scopes":[\#(scopes.map { "\"\($0)\"" }.joined(separator: ","))]}"#
        let created = try await client.call(.post, "/tokens", token: server.admin, body: body)
        return try #require(created.json.objectValue?["token"]?.stringValue)
    }

    @Test func anExportThroughTheTriggerIsAnswered_Deduplicated_AndCalledBack() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        let server = try await TestServer.make { $0.webhooks.allowPrivateNetworks = true }
        try await server.run { client in
            try await client.addRecord(server)
            let trigger = try await Self.triggerToken(client, server)
            #expect(try await client.call(.post, "/export", token: server.alice, body: try Self.body()).status == .forbidden)

            let created = try await client.call(.post, "/export", token: trigger, body: try Self.body(callback: receiver.url))
            #expect(created.status == .ok)
            let answer = try #require(created.json.objectValue)
            let jobId = try #require(answer["jobId"]?.stringValue)
            #expect(UUID(uuidString: jobId) != nil && answer["status"] == .string("Pending") && answer["isDuplicated"] == nil)

            // The same request while it runs joins it; the status answers in job-manager's words.
            let again = try await client.call(.post, "/export", token: trigger, body: try Self.body())
            if again.json.objectValue?["status"] != .string("Completed") {
                #expect(again.json.objectValue?["jobId"] == .string(jobId) && again.json.objectValue?["isDuplicated"] == .bool(true))
            }
            let taskId = try #require(TriggerJobId.taskId(jobId))
            let deadline = ContinuousClock.now + .seconds(90)
            var status = JSONValue.null
            while ContinuousClock.now < deadline {
                status = try await client.call(.get, "/export/\(jobId)/status", token: trigger).json
                guard ["Pending", "In-Progress"].contains(status.objectValue?["status"]?.stringValue) else { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(status == .object(["percentage": .number(100), "status": .string("Completed")]))

            // Completed: the naive-cache answer with its links, which download without a token.
            let cached = try #require(try await client.call(.post, "/export", token: trigger, body: try Self.body()).json.objectValue)
            #expect(cached["status"] == .string("Completed") && cached["jobId"] == .string(jobId))
            #expect(cached["recordCatalogId"] == .string(TestServer.recordID) && cached["description"] == .string("France for the field"))
            let links = try #require(cached["links"]?.objectValue)
            let dataURI = try #require(links["dataURI"]?.stringValue)
            #expect(links["metadataURI"]?.stringValue.flatMap(URL.init(string:))?.path.hasSuffix(".json") == true)
            let artifacts = cached["artifacts"]?.arrayValue ?? []
            #expect(Set(artifacts.compactMap { $0.objectValue?["type"]?.stringValue }) == ["GPKG", "METADATA"])
            #expect(cached["fileSize"] == artifacts.first { $0.objectValue?["type"] == .string("GPKG") }?.objectValue?["size"])
            let url = try #require(URL(string: dataURI))
            let download = try await client.call(.get, url.path + "?" + (url.query ?? ""))
            #expect(download.status == .ok && Data(download.body.readableBytesView).prefix(6) == Data("SQLite".utf8))

            // The callback: exporter-trigger's CallbackExportResponse, with overseer's text.
            let callbackDeadline = ContinuousClock.now + .seconds(30)
            while receiver.acceptedCalls.isEmpty && ContinuousClock.now < callbackDeadline { try await Task.sleep(for: .milliseconds(50)) }
            let calls = receiver.acceptedCalls
            let callback = try #require(try calls.first.map { try JSONValue.parse($0.body).objectValue } ?? nil)
            #expect(callback["status"] == .string("Completed") && callback["jobId"] == .string(jobId))
            #expect(callback["description"] == .string("The export process completed successfully."))
            #expect(callback["links"]?.objectValue?["dataURI"]?.stringValue?.isEmpty == false && callback["roi"] != nil)

            // The same job through the export-management API: one task, the callback among its webhooks.
            let task = try await client.call(.get, "/export-tasks/\(taskId)", token: try await Self.triggerToken(client, server, scopes: ["export:trigger", "export"]))
            #expect(task.json.objectValue?["webhooks"]?.arrayValue?.first?.objectValue?["url"] == .string(receiver.url))

            let storage = try #require(try await client.call(.get, "/storage", token: trigger).json.objectValue)
            let free = try #require(storage["free"]?.numberValue)
            let size = try #require(storage["size"]?.numberValue)
            #expect(free > 0 && size >= free)
        }
    }

    @Test func requestsAreRefusedInTheTriggersWords() async throws {
        let server = try await TestServer.make { $0.worker.run = false }
        try await server.run { client in
            try await client.addRecord(server)
            let trigger = try await Self.triggerToken(client, server)
            let refusals: [(body: String, message: String)] = [
                ("{}", "request/body must have required property 'dbId'"),
                (#"{"dbId":"x"}"#, #"request/body/dbId must match format "uuid""#),
                (#"{"dbId":"\#(TestServer.recordID)","crs":"EPSG:3857"}"#, "request/body/crs must be equal to one of the allowed values: EPSG:4326"),
                (#"{"dbId":"\#(TestServer.recordID)","priority":-1}"#, "request/body/priority must be >= 0"),
                (
                    try Self.body().replacingOccurrences(of: "maxResolutionDeg", with: "resolution"),
                    "request/body/roi/features/0/properties must have required property 'maxResolutionDeg'"
                ),
            ]
            for refusal in refusals {
                let response = try await client.call(.post, "/export", token: trigger, body: refusal.body)
                #expect(response.status == .badRequest && response.message == refusal.message, "\(refusal.body): \(response.message)")
            }
            let unknown = try await client.call(.post, "/export", token: trigger, body: #"{"dbId":"0a0b0c0d-0e0f-4000-8000-000000000000"}"#)
            #expect(unknown.status == .notFound)
            #expect(try await client.call(.get, "/export/nope/status", token: trigger).message == #"request/params/jobId must match format "uuid""#)
            let missing = try await client.call(.get, "/export/\(UUID().uuidString)/status", token: trigger)
            #expect(missing.status == .notFound)

            // No ROI: the record's footprint at its own resolution, queued as any export.
            let whole = try await client.call(.post, "/export", token: trigger, body: #"{"dbId":"\#(TestServer.recordID)"}"#)
            #expect(whole.status == .ok && whole.json.objectValue?["status"] == .string("Pending"))
            let jobId = try #require(whole.json.objectValue?["jobId"]?.stringValue)
            #expect(try await client.call(.get, "/export/\(jobId)/status", token: trigger).json == .object(["percentage": .number(0), "status": .string("Pending")]))
            // Another customer does not see it; an export-only token may not ask.
            let other = try await Self.triggerToken(client, server, subject: "another-deployment")
            #expect(try await client.call(.get, "/export/\(jobId)/status", token: other).status == .notFound)
            #expect(try await client.call(.get, "/export/\(jobId)/status", token: server.alice).status == .forbidden)
        }
    }
}
