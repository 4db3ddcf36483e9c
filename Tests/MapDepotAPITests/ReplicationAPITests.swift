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

/// The replica-server v2.0.0 contract over HTTP, plus layers, changes and on-demand production.
@Suite struct ReplicationAPITests {
    static func feature(_ id: String, _ x: Double, _ name: String) -> String {
        #"{"type":"Feature","id":"\#(id)","properties":{"name":"\#(name)"},"geometry":{"type":"Point","coordinates":[\#(x),1]}}"#
    }

    static func upserts(_ features: String...) -> String {
        upserts(features)
    }

    static func upserts(_ features: [String]) -> String {
        #"{"upserts":{"type":"FeatureCollection","features":[\#(features.joined(separator: ","))]}}"#
    }

    @Test func layersChangesAndReplicasEndToEnd() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            // Layers: admin creates, readers list in the contract's exact shape, ordered by layerId.
            #expect(try await client.call(.post, "/layers", token: server.writer, body: #"{"layerName":"x","geometryTypes":["point"]}"#).status == .forbidden)
            #expect(try await client.call(.post, "/layers", token: server.admin, body: #"{"layerId":7,"layerName":"roads","geometryTypes":["linestring"]}"#).status == .created)
            #expect(try await client.call(.post, "/layers", token: server.admin, body: #"{"layerId":3,"layerName":"places","geometryTypes":["polygon","point"]}"#).status == .created)
            #expect(try await client.call(.post, "/layers", token: server.admin, body: #"{"layerId":3,"layerName":"other","geometryTypes":["point"]}"#).status == .conflict)
            let layers = try await client.call(.get, "/layers", token: server.reader)
            // The contract's members, and MapDepot's stable sourceId (issue #14).
            let listed = layers.json.arrayValue?.compactMap(\.objectValue) ?? []
            #expect(listed.map { $0.filter { $0.key != "sourceId" } } == (try JSONValue.parse(Data(#"[{"layerId":3,"layerName":"places","geometryTypes":["point","polygon"]},{"layerId":7,"layerName":"roads","geometryTypes":["linestring"]}]"#.utf8))).arrayValue?.compactMap(\.objectValue))
            let sourceId = try #require(listed.first?["sourceId"]?.stringValue)
            #expect(UUID(uuidString: sourceId) != nil && listed[1]["sourceId"]?.stringValue != sourceId)

            // Changes need replication:write.
            #expect(try await client.call(.post, "/layers/3/changes", token: server.reader, body: Self.upserts(Self.feature("{a}", 1, "A"))).status == .forbidden)
            let applied = try await client.call(.post, "/layers/3/changes", token: server.writer, body: Self.upserts(Self.feature("{a}", 1, "A"), Self.feature("{b}", 2, "B")))
            #expect(applied.status == .ok)
            #expect(applied.json.objectValue?["sequenceNumber"] == .number(1))
            #expect(applied.json.objectValue?["created"] == .number(2))

            let snapshot = try await client.call(.post, "/layers/3/replicas", token: server.writer, body: #"{"replicaType":"snapshot","geometryType":"point"}"#)
            #expect(snapshot.status == .created)
            let snapshotObject = snapshot.json.objectValue ?? [:]
            #expect(snapshotObject["replicaType"] == .string("snapshot"))
            #expect(snapshotObject["sourceId"] == .string(sourceId), "a replica names its layer's source")
            #expect(snapshotObject["sequenceNumber"] == .number(1))
            let urls = snapshotObject["urls"]?.arrayValue?.compactMap(\.stringValue) ?? []
            #expect(urls.count == 1 && urls[0].hasSuffix(".zip"))
            let files = snapshotObject["files"]?.arrayValue?.compactMap(\.objectValue) ?? []
            #expect(files.first?["features"] == .number(2))

            // Download the zip: a reader may, an export-only token may not.
            let path = try #require(URL(string: urls[0])?.path)
            let zip = try await client.call(.get, path, token: server.reader)
            #expect(zip.status == .ok)
            #expect(zip.headers[.contentType] == "application/zip")
            #expect(zip.headers[.eTag] == "\"\(files[0]["sha256"]?.stringValue ?? "")\"")
            #expect(Data(zip.body.readableBytesView).prefix(2) == Data("PK".utf8))
            let part = try await client.call(.get, path, token: server.reader, headers: [.range: "bytes=0-9"])
            #expect(part.status == .partialContent && part.body.readableBytes == 10)
            #expect(try await client.call(.get, path, token: server.alice).status == .forbidden)

            _ = try await client.call(.post, "/layers/3/changes", token: server.writer, body: #"{"upserts":{"type":"FeatureCollection","features":[\#(Self.feature("{a}", 5, "A"))]},"deletes":["{b}"]}"#)
            let delta = try await client.call(.post, "/layers/3/replicas", token: server.writer, body: #"{"replicaType":"delta","geometryType":"point"}"#)
            let deltaObject = delta.json.objectValue ?? [:]
            #expect(deltaObject["fromTimestamp"] == snapshotObject["timestamp"])
            #expect(deltaObject["files"]?.arrayValue?.first?.objectValue?["deletions"] == .number(1))

            // The contract's texts.
            let missing = try await client.call(.get, "/replica/latest?layer_id=3&geometry_type=polygon&replica_type=delta", token: server.reader)
            #expect(missing.status == .notFound)
            #expect(missing.message == "replica of type delta with geometry type of polygon on layer 3 was not found")
            let latest = try await client.call(.get, "/replica/latest?layer_id=3&geometry_type=point&replica_type=delta&token=\(server.reader)")
            #expect(latest.json.objectValue?["sequenceNumber"] == deltaObject["sequenceNumber"])
            #expect(latest.json.objectValue?["replicaId"] == nil, "write-only in replica-server's document")
            let bad = try await client.call(.get, "/replica?layer_id=3&replica_type=delta", token: server.reader)
            #expect(bad.status == .badRequest)
            #expect(bad.message == "request/query must have required property 'geometry_type'")
            #expect(try await client.call(.get, "/replica?layer_id=3&geometry_type=point&replica_type=delta").status == .unauthorized)
        }
    }

    /// Every combination of the optional filters against three deltas at known times.
    @Test func replicaFiltersFollowTheReference() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            _ = try await client.call(.post, "/layers", token: server.admin, body: #"{"layerId":1,"layerName":"l","geometryTypes":["point"]}"#)
            var stamps: [String] = []
            for index in 0..<3 {
                _ = try await client.call(.post, "/layers/1/changes", token: server.writer, body: Self.upserts(Self.feature("{\(index)}", Double(index), "n")))
                let delta = try await client.call(.post, "/layers/1/replicas", token: server.writer, body: #"{"replicaType":"delta","geometryType":"point"}"#)
                stamps.append(try #require(delta.json.objectValue?["timestamp"]?.stringValue))
                try await Task.sleep(for: .milliseconds(5))
            }
            func list(_ query: String) async throws -> [String] {
                let response = try await client.call(.get, "/replica?layer_id=1&geometry_type=point&replica_type=delta\(query)", token: server.reader)
                #expect(response.status == .ok, "\(query): \(response.message)")
                return (response.json.arrayValue ?? []).compactMap { $0.objectValue?["timestamp"]?.stringValue }
            }
            let all = stamps.reversed().map { $0 }
            #expect(try await list("") == all)  // default sort: desc
            #expect(try await list("&sort=desc") == all)
            #expect(try await list("&sort=asc") == stamps)
            #expect(try await list("&exclusive_from=\(stamps[0])&sort=asc") == [stamps[1], stamps[2]])  // strict
            #expect(try await list("&to=\(stamps[1])&sort=asc") == [stamps[0], stamps[1]])  // inclusive
            #expect(try await list("&exclusive_from=\(stamps[0])&to=\(stamps[1])") == [stamps[1]])
            #expect(try await list("&exclusive_from=\(stamps[2])&to=\(stamps[0])") == [])  // from after to
            #expect(try await list("&exclusive_from=\(stamps[2])") == [])
            #expect(try await list("&to=2000-01-01T00:00:00Z") == [])
            let other = try await client.call(.get, "/replica?layer_id=99&geometry_type=point&replica_type=delta", token: server.reader)
            #expect(other.json == .array([]))
            let snapshots = try await client.call(.get, "/replica?layer_id=1&geometry_type=point&replica_type=snapshot", token: server.reader)
            #expect(snapshots.json == .array([]))
            for (query, message) in [
                ("layer_id=1&geometry_type=point", "request/query must have required property 'replica_type'"),
                ("geometry_type=point&replica_type=delta", "request/query must have required property 'layer_id'"),
                ("layer_id=one&geometry_type=point&replica_type=delta", "request/query/layer_id must be number"),
                ("layer_id=1&geometry_type=points&replica_type=delta", "request/query/geometry_type must be equal to one of the allowed values: point, linestring, polygon"),
                ("layer_id=1&geometry_type=point&replica_type=full", "request/query/replica_type must be equal to one of the allowed values: snapshot, delta"),
                ("layer_id=1&geometry_type=point&replica_type=delta&sort=newest", "request/query/sort must be equal to one of the allowed values: asc, desc"),
                ("layer_id=1&geometry_type=point&replica_type=delta&exclusive_from=today", #"request/query/exclusive_from must match format "date-time""#),
                ("layer_id=1&geometry_type=point&replica_type=delta&to=1700000000", #"request/query/to must match format "date-time""#),
            ] {
                let response = try await client.call(.get, "/replica?\(query)", token: server.reader)
                #expect(response.status == .badRequest)
                #expect(response.message == message)
            }
        }
    }

    @Test func badChangesAreRefusedAndNothingIsApplied() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            _ = try await client.call(.post, "/layers", token: server.admin, body: #"{"layerId":1,"layerName":"l","geometryTypes":["point"]}"#)
            _ = try await client.call(.post, "/layers/1/changes", token: server.writer, body: Self.upserts(Self.feature("{a}", 1, "A")))
            let polygon = #"{"type":"Feature","id":"{p}","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}"#
            for (body, message) in [
                (#"{"deletes":["{nope}"]}"#, "does not exist in layer 1"),
                (#"{"upserts":{"type":"FeatureCollection","features":[\#(Self.feature("{n}", 1, "N"))]},"deletes":["{nope}"]}"#, "does not exist in layer 1"),
                (Self.upserts(polygon), "which layer 1 does not hold"),
                (Self.upserts(Self.feature("{d}", 1, "D"), Self.feature("{d}", 2, "D")), "appears twice in one request"),
                (#"{"upserts":{"type":"FeatureCollection","features":[{"type":"Feature","id":"{x}","properties":{},"geometry":{"type":"Point","coordinates":[1]}}]}}"#, "a position needs 2 or 3 numbers"),
                ("{nope", "not valid JSON"),
                (#"{"upserts":[]}"#, "must be a GeoJSON FeatureCollection object"),
            ] {
                let response = try await client.call(.post, "/layers/1/changes", token: server.writer, body: body)
                #expect(response.status == .badRequest, "\(body)")
                #expect(response.message.contains(message), "\(response.message)")
            }
            #expect(try await client.call(.post, "/layers/9/changes", token: server.writer, body: Self.upserts(Self.feature("{a}", 1, "A"))).status == .notFound)
            #expect(try await client.call(.post, "/layers/x/changes", token: server.writer, body: "{}").status == .badRequest)
            // Nothing above was applied: the next change is sequence 2, and the layer has one feature.
            let next = try await client.call(.post, "/layers/1/changes", token: server.writer, body: #"{"deletes":["{a}"],"changeId":"k"}"#)
            #expect(next.json.objectValue?["sequenceNumber"] == .number(2))
            let repeated = try await client.call(.post, "/layers/1/changes", token: server.writer, body: #"{"deletes":["{a}"],"changeId":"k"}"#)
            #expect(repeated.json == next.json)
            for (body, message) in [
                (#"{"replicaType":"snapshot","geometryType":"polygon"}"#, "layer 1 holds no polygon features"),
                (#"{"replicaType":"full","geometryType":"point"}"#, "replicaType must be one of"),
                (#"{"geometryType":"point"}"#, "replicaType is required"),
            ] {
                let response = try await client.call(.post, "/layers/1/replicas", token: server.writer, body: body)
                #expect(response.status == .badRequest)
                #expect(response.message.contains(message), "\(response.message)")
            }
        }
    }

    /// Issue #15: a change set is read as it arrives, and the body limit bounds each of its features, not the whole;
    /// the change set's own limit is refused from its `Content-Length`, before the body is read.
    @Test func aChangeSetLargerThanTheBodyLimitStreams() async throws {
        let server = try await TestServer.make {
            $0.http.maxBodyBytes = 16 * 1024
            $0.http.maxChangeSetBytes = 2 << 20
        }
        try await server.run { client in
            _ = try await client.call(.post, "/layers", token: server.admin, body: #"{"layerId":1,"layerName":"l","geometryTypes":["point"]}"#)
            var features = (0..<6_000).map { Self.feature("{p\($0)}", Double($0 % 180), "place \($0)") }
            let body = Self.upserts(features)
            #expect(body.utf8.count > 40 * 16 * 1024 && body.utf8.count < 2 << 20)
            // An unknown layer is answered before the body is read; the connection still serves the next request.
            #expect(try await client.call(.post, "/layers/9/changes", token: server.writer, body: body).status == .notFound)
            let applied = try await client.call(.post, "/layers/1/changes", token: server.writer, body: body)
            #expect(applied.status == .ok, "\(applied.message)")
            #expect(applied.json.objectValue?["created"] == .number(6_000))

            // A fault deep in a streamed body names its feature; nothing of it is applied.
            features[5_000] = #"{"type":"Feature","id":"{late}","properties":{},"geometry":{"type":"Point","coordinates":[1]}}"#
            let late = try await client.call(.post, "/layers/1/changes", token: server.writer, body: Self.upserts(features))
            #expect(late.status == .badRequest && late.message.hasPrefix("upserts.features[5000].geometry.coordinates"), "\(late.message)")
            features[5_000] = Self.feature("{p0}", 3, "again")
            let twice = try await client.call(.post, "/layers/1/changes", token: server.writer, body: Self.upserts(features))
            #expect(twice.message.contains("upserts.features[5000]: feature id \"{p0}\" appears twice in one request (first at upserts.features[0])"), "\(twice.message)")
            let next = try await client.call(.post, "/layers/1/changes", token: server.writer, body: #"{"deletes":["{p1}"]}"#)
            #expect(next.json.objectValue?["sequenceNumber"] == .number(2))

            // One feature over the body limit: 413 naming it.
            let big = Self.feature("{big}", 1, String(repeating: "x", count: 20_000))
            let refused = try await client.call(.post, "/layers/1/changes", token: server.writer, body: Self.upserts(Self.feature("{a}", 1, "A"), big))
            #expect(refused.status == .contentTooLarge)
            #expect(refused.message == "upserts.features[1] is larger than the limit of 16384 bytes for one feature", "\(refused.message)")
            // Other bodies keep the body limit.
            let layer = #"{"layerId":2,"layerName":""# + String(repeating: "n", count: 20_000) + #"","geometryTypes":["point"]}"#
            let other = try await client.call(.post, "/layers", token: server.admin, body: layer)
            #expect(other.status == .contentTooLarge && other.message.contains("larger than the limit of 16384"), "\(other.message)")
        }
        // The change set's own limit, from the declared length (the server closes such a connection: a client of its own).
        try await server.run { client in
            let whole = Self.upserts((0..<30_000).map { Self.feature("{q\($0)}", 1, "place \($0)") })
            let refused = try await client.call(.post, "/layers/1/changes", token: server.writer, body: whole)
            #expect(refused.status == .contentTooLarge)
            #expect(refused.message.contains("larger than the limit of \(2 << 20)"), "\(refused.message)")
        }
    }

    @Test func theSchedulerProducesSnapshotsThenDeltasWhenTheLayerChanges() async throws {
        let server = try await TestServer.make {
            $0.replication.runScheduler = true
            $0.replication.deltaIntervalSeconds = 0
            $0.replication.schedulerCheckSeconds = 0.1
        }
        try await server.run { client in
            _ = try await client.call(.post, "/layers", token: server.admin, body: #"{"layerId":1,"layerName":"l","geometryTypes":["point"]}"#)
            let latest = "/replica/latest?layer_id=1&geometry_type=point&replica_type="
            var snapshot = try await client.call(.get, latest + "snapshot", token: server.reader)
            for _ in 0..<100 where snapshot.status != .ok {
                try await Task.sleep(for: .milliseconds(100))
                snapshot = try await client.call(.get, latest + "snapshot", token: server.reader)
            }
            #expect(snapshot.status == .ok)
            _ = try await client.call(.post, "/layers/1/changes", token: server.writer, body: Self.upserts(Self.feature("{a}", 1, "A")))
            var delta = try await client.call(.get, latest + "delta", token: server.reader)
            for _ in 0..<100 where delta.status != .ok {
                try await Task.sleep(for: .milliseconds(100))
                delta = try await client.call(.get, latest + "delta", token: server.reader)
            }
            #expect(delta.status == .ok)
            #expect(delta.json.objectValue?["changeSequence"] == .number(1))
        }
    }
}
