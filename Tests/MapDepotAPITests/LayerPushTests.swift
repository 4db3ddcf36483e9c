import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdTesting
import JSONValues
import MapDepotAPI
import NIOCore
import NIOHTTP1
import Synchronization
import Testing
import TestSupport

/// Push (issue #14 item 5) over HTTP: webhook subscriptions per layer, signed and delivered from the export webhooks'
/// outbox, and `GET /layers/{layerId}/events` Server-Sent Events on every publication.
@Suite struct LayerPushTests {
    @Test func subscribersAndEventStreamsHearOfEveryPublication() async throws {
        let secret = "0123456789abcdef-layers"
        let receiver = try await WebhookReceiver.start(secret: secret)
        defer { Task { await receiver.stop() } }
        let server = try await TestServer.make {
            $0.webhooks.allowPrivateNetworks = true
            $0.webhooks.firstRetrySeconds = 0.05
        }
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = http.shutdown() }
        try await server.run { client in
            _ = try await client.call(.post, "/layers", token: server.admin, body: #"{"layerId":11,"layerName":"pushed","geometryTypes":["point","polygon"]}"#)
            for (body, message) in [
                (#"{"url":"ftp://x/hook"}"#, #"url must be an absolute http or https URL, found "ftp://x/hook""#),
                (#"{"url":"\#(receiver.url)","secret":"short"}"#, "secret must be 16 to 256 characters"),
                (#"{"url":"\#(receiver.url)","geometryTypes":["linestring"]}"#, "layer 11 holds no linestring features (it holds point, polygon)"),
            ] {
                let refused = try await client.call(.post, "/layers/11/subscriptions", token: server.reader, body: body)
                #expect(refused.status == .badRequest && refused.message == message, "\(refused.message)")
            }
            #expect(try await client.call(.post, "/layers/12/subscriptions", token: server.reader, body: #"{"url":"\#(receiver.url)"}"#).status == .notFound)
            let made = try await client.call(
                .post, "/layers/11/subscriptions", token: server.reader, body: #"{"url":"\#(receiver.url)","secret":"\#(secret)","geometryTypes":["polygon"]}"#
            )
            #expect(made.status == .created && made.json.objectValue?["signed"] == .bool(true) && made.json.objectValue?["secret"] == nil)
            let id = try #require(made.json.objectValue?["id"]?.stringValue)
            #expect(try await client.call(.get, "/layers/11/subscriptions", token: server.reader).json.arrayValue?.count == 1)
            #expect(try await client.call(.get, "/layers/11/subscriptions", token: server.writer).json.arrayValue?.count == 0, "another subscriber's")

            // An event stream, read as it arrives.
            let received = Mutex("")
            let stream = Task {
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(client.port!)/layers/11/events")
                request.headers.add(name: "x-api-key", value: server.reader)
                let response = try await http.execute(request, timeout: .seconds(30))
                for try await chunk in response.body {
                    received.withLock { $0 += String(buffer: chunk) }
                }
            }
            defer { stream.cancel() }
            // The stream's first line comes after it took its starting point: publish only then (under a loaded pass the
            // connection took more than the 2 s this once waited, and the polygon delta went out before the stream began).
            for _ in 0..<500 where !received.withLock({ $0.contains(": layer 11") }) { try await Task.sleep(for: .milliseconds(20)) }
            try #require(received.withLock { $0.contains(": layer 11") }, "the event stream did not start within 10 s")

            _ = try await client.call(
                .post, "/layers/11/changes", token: server.writer,
                body: ReplicationAPITests.upserts(
                    ReplicationAPITests.feature("p", 1, "P"),
                    #"{"type":"Feature","id":"q","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}"#
                )
            )
            let polygon = try await client.call(.post, "/layers/11/replicas", token: server.writer, body: #"{"replicaType":"delta","geometryType":"polygon"}"#)
            _ = try await client.call(.post, "/layers/11/replicas", token: server.writer, body: #"{"replicaType":"delta","geometryType":"point"}"#)
            for _ in 0..<200 where receiver.acceptedCalls.isEmpty || !received.withLock({ $0.contains("id: point/delta/1") }) {
                try await Task.sleep(for: .milliseconds(25))
            }
            let events = received.withLock { $0 }
            #expect(events.contains("event: replica\nid: polygon/delta/1\ndata: ") && events.contains("id: point/delta/1"), "\(events)")

            // The subscriber hears of the polygon delta only, signed, with the URLs GET /replica lists.
            #expect(receiver.acceptedCalls.count == 1)
            let call = try #require(receiver.acceptedCalls.first)
            #expect(call.event == "REPLICA_PUBLISHED" && call.signatureValid == true)
            let body = try JSONValue.parse(call.body).objectValue ?? [:]
            let data = try #require(body["data"]?.objectValue)
            #expect(body["event"] == .string("REPLICA_PUBLISHED") && data["geometryType"] == .string("polygon") && data["sequenceNumber"] == .number(1))
            #expect(data["urls"] == polygon.json.objectValue?["urls"] && data["files"]?.arrayValue?.first?.objectValue?["key"] == nil)

            #expect(try await client.call(.delete, "/layers/11/subscriptions/\(id)", token: server.writer).status == .notFound, "another subscriber's")
            #expect(try await client.call(.delete, "/layers/11/subscriptions/\(id)", token: server.reader).status == .noContent)
            _ = try await client.call(.post, "/layers/11/changes", token: server.writer, body: ReplicationAPITests.upserts(ReplicationAPITests.feature("r", 2, "R")))
            _ = try await client.call(.post, "/layers/11/replicas", token: server.writer, body: #"{"replicaType":"delta","geometryType":"polygon"}"#)
            try await Task.sleep(for: .milliseconds(400))
            #expect(receiver.calls.count == 1, "no delivery after unsubscribing")
        }
    }
}
