import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import JSONValues
import MapDepotAPI
import MapDepotCore
import Testing
import TestSupport

/// replica-server's internal registry over HTTP (issue #12): the two-phase publish, its texts, bulk operations by
/// filter, and replicas MapDepot produced under the same rules.
@Suite struct ReplicaRegistryTests {
    static let replicaId = "6b1e4a8c-2f3d-4c5b-9a7e-1d2c3b4a5f60"
    static let fileIds = ["0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f", "1d0e9f8a-7b6c-4d5e-9f3a-2b1c0d9e8f7a"]

    static func registration(_ id: String = replicaId, timestamp: String = "2026-11-30T08:00:00.000Z", layer: Int = 12) -> String {
        #"{"replicaId":"\#(id)","replicaType":"delta","geometryType":"polygon","layerId":\#(layer),"bucketName":"vector-replicas","timestamp":"\#(timestamp)"}"#
    }

    @Test func aRegisteredReplicaIsPublishedByUnhidingIt() async throws {
        let server = try await TestServer.make {
            $0.replication.objectStorageHost = "objects.example"
            $0.replication.objectStoragePort = 9000
            $0.replication.objectStorageProjectId = "vector"
        }
        try await server.run { client in
            let listing = "/replica?layer_id=12&geometry_type=polygon&replica_type=delta"
            #expect(try await client.call(.post, "/replica", token: server.writer, body: Self.registration()).status == .forbidden)
            let created = try await client.call(.post, "/replica", token: server.admin, body: Self.registration())
            #expect(created.status == .created && created.body.readableBytes == 0)
            let again = try await client.call(.post, "/replica", token: server.admin, body: Self.registration())
            #expect(again.status == .conflict && again.message == "replica with id \(Self.replicaId) already exists")

            // Hidden: in no listing, not found by id, but files can be added to it.
            #expect(try await client.call(.get, listing, token: server.reader).json == .array([]))
            let hidden = try await client.call(.get, "/replica/\(Self.replicaId)", token: server.reader)
            #expect(hidden.status == .notFound && hidden.message == "replica with id \(Self.replicaId) was not found")
            for fileId in Self.fileIds {
                #expect(try await client.call(.post, "/replica/\(Self.replicaId)/file", token: server.admin, body: #"{"fileId":"\#(fileId)"}"#).status == .created)
            }
            let taken = try await client.call(.post, "/replica/\(Self.replicaId)/file", token: server.admin, body: #"{"fileId":"\#(Self.fileIds[0])"}"#)
            #expect(taken.status == .conflict && taken.message == "file with id \(Self.fileIds[0]) already exists")
            let other = "7c2f5b9d-3e4a-4d6c-8b8f-2e3d4c5b6a71"
            let noReplica = try await client.call(.post, "/replica/\(other)/file", token: server.admin, body: #"{"fileId":"\#(UUID().uuidString)"}"#)
            #expect(noReplica.status == .notFound && noReplica.message == "replica with id \(other) was not found")

            // Published: the listing shows it with URLs built as replica-server builds them.
            #expect(try await client.call(.patch, "/replica/\(Self.replicaId)", token: server.admin, body: #"{"isHidden":false}"#).status == .ok)
            let shown = try await client.call(.get, "/replica/\(Self.replicaId)", token: server.reader)
            let object = try #require(shown.json.objectValue)
            #expect(object["urls"] == .array(Self.fileIds.map { .string("http://objects.example:9000/vector:vector-replicas/12/polygon/\($0)") }))
            #expect(object["timestamp"] == .string("2026-11-30T08:00:00.000Z") && object["sequenceNumber"] == .number(1))
            for hiddenField in ["replicaId", "bucketName", "isHidden"] { #expect(object[hiddenField] == nil) }
            #expect(try await client.call(.get, listing, token: server.reader).json.arrayValue?.count == 1)

            // A second one, published in bulk by filter; the listing orders both by timestamp.
            let second = "8d3a6c0e-4f5b-4e7d-9c9a-3f4e5d6c7b82"
            _ = try await client.call(.post, "/replica", token: server.admin, body: Self.registration(second, timestamp: "2026-11-30T09:00:00Z"))
            #expect(try await client.call(.patch, "/replica?layer_id=12&is_hidden=true", token: server.admin, body: #"{"isHidden":false}"#).status == .ok)
            let both = try await client.call(.get, listing + "&sort=asc", token: server.reader).json.arrayValue ?? []
            #expect(both.map { $0.objectValue?["timestamp"] } == [.string("2026-11-30T08:00:00.000Z"), .string("2026-11-30T09:00:00.000Z")])
            #expect(both.map { $0.objectValue?["sequenceNumber"] } == [.number(1), .number(2)])

            // Deleted by id: the answer is the replica with its URLs; by filter: every match.
            let deleted = try await client.call(.delete, "/replica/\(Self.replicaId)", token: server.admin)
            #expect(deleted.status == .ok && deleted.json.objectValue?["urls"]?.arrayValue?.count == 2)
            #expect(try await client.call(.delete, "/replica/\(Self.replicaId)", token: server.admin).status == .notFound)
            let byFilter = try await client.call(.delete, "/replica?layer_id=12", token: server.admin)
            #expect(byFilter.json.arrayValue?.count == 1)
            #expect(try await client.call(.get, listing, token: server.reader).json == .array([]))
            // The file ids went with their replica.
            _ = try await client.call(.post, "/replica", token: server.admin, body: Self.registration())
            #expect(try await client.call(.post, "/replica/\(Self.replicaId)/file", token: server.admin, body: #"{"fileId":"\#(Self.fileIds[0])"}"#).status == .created)
        }
    }

    @Test func requestsAreRefusedInReplicaServersWords() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let refusals: [(method: HTTPRequest.Method, path: String, body: String?, message: String)] = [
                (.post, "/replica", #"{"replicaType":"delta"}"#, "request/body must have required property 'replicaId'"),
                (.post, "/replica", #"[]"#, "request/body must be object"),
                (.post, "/replica", Self.registration().replacingOccurrences(of: "vector-replicas", with: "ab"), "request/body/bucketName must NOT have fewer than 3 characters"),
                (.post, "/replica", Self.registration().replacingOccurrences(of: "polygon", with: "area"), "request/body/geometryType must be equal to one of the allowed values: point, linestring, polygon"),
                (.post, "/replica", Self.registration(layer: 0).replacingOccurrences(of: ":0,", with: ":1.5,"), #"request/body/layerId must match format "int32""#),
                (.post, "/replica", Self.registration("nope"), #"request/body/replicaId must match format "uuid""#),
                (.post, "/replica", Self.registration(timestamp: "yesterday"), #"request/body/timestamp must match format "date-time""#),
                (.patch, "/replica/\(Self.replicaId)", #"{"urls":[]}"#, "request/body/urls is read-only"),
                (.patch, "/replica/\(Self.replicaId)", #"{"isHidden":"no"}"#, "request/body/isHidden must be boolean"),
                (.get, "/replica/12", nil, #"request/params/replicaId must match format "uuid""#),
                (.patch, "/replica", "{}", "request/query/filter must NOT have fewer than 1 properties"),
                (.delete, "/replica?layer_id=x", nil, "request/query/filter/layer_id must be number"),
                (.delete, "/replica?is_hidden=1", nil, "request/query/filter/is_hidden must be boolean"),
                (.delete, "/replica?colour=red", nil, "Unknown query parameter 'colour'"),
                (.post, "/replica/\(Self.replicaId)/file", "{}", "request/body must have required property 'fileId'"),
            ]
            for refusal in refusals {
                let response = try await client.call(refusal.method, refusal.path, token: server.admin, body: refusal.body)
                #expect(response.status == .badRequest && response.message == refusal.message, "\(refusal.method) \(refusal.path): \(response.message)")
            }
            // A filter that matches nothing is not an error; an unknown id is.
            #expect(try await client.call(.patch, "/replica?layer_id=99", token: server.admin, body: #"{"isHidden":false}"#).status == .ok)
            #expect(try await client.call(.patch, "/replica/\(Self.replicaId)", token: server.admin, body: "{}").status == .notFound)
        }
    }

    /// Replicas MapDepot produced obey the registry too: hidden by a patch, deleted with their files; and the
    /// producer numbers its next replica after registered ones.
    @Test func producedReplicasObeyTheSameRules() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            _ = try await client.call(.post, "/layers", token: server.admin, body: #"{"layerId":5,"layerName":"places","geometryTypes":["point"]}"#)
            _ = try await client.call(.post, "/layers/5/changes", token: server.writer, body: ReplicationAPITests.upserts(ReplicationAPITests.feature("{a}", 1, "A")))
            let snapshot = try await client.call(.post, "/layers/5/replicas", token: server.writer, body: #"{"replicaType":"snapshot","geometryType":"point"}"#)
            let url = try #require(snapshot.json.objectValue?["urls"]?.arrayValue?.first?.stringValue)
            let zipPath = try #require(URL(string: url)?.path)
            let id = try #require(zipPath.split(separator: "/").map(String.init).first { UUID(uuidString: $0) != nil })
            let listing = "/replica?layer_id=5&geometry_type=point&replica_type=snapshot"

            #expect(try await client.call(.patch, "/replica/\(id)", token: server.admin, body: #"{"isHidden":true}"#).status == .ok)
            #expect(try await client.call(.get, listing, token: server.reader).json == .array([]))
            #expect(try await client.call(.get, zipPath, token: server.reader).status == .notFound, "a hidden replica's files are not served")
            #expect(try await client.call(.patch, "/replica/\(id)", token: server.admin, body: #"{"isHidden":false}"#).status == .ok)
            #expect(try await client.call(.get, zipPath, token: server.reader).status == .ok)

            // Numbers are taken when a replica becomes visible: a registered snapshot stamped in 2020 and published after
            // the producer's second is number 3, so a client following sequences (after 2) gets it (issue #14).
            let registered = "9e4b7d1f-5a6c-4f8e-8d0b-4a5f6e7d8c93"
            _ = try await client.call(
                .post, "/replica", token: server.admin,
                body: #"{"replicaId":"\#(registered)","replicaType":"snapshot","geometryType":"point","layerId":5,"bucketName":"outside","timestamp":"2020-01-01T00:00:00Z"}"#
            )
            let next = try await client.call(.post, "/layers/5/replicas", token: server.writer, body: #"{"replicaType":"snapshot","geometryType":"point"}"#)
            #expect(next.json.objectValue?["sequenceNumber"] == .number(2))
            #expect(try await client.call(.patch, "/replica/\(registered)", token: server.admin, body: #"{"isHidden":false}"#).status == .ok)
            let followed = try await client.call(.get, listing + "&after_sequence=2", token: server.reader).json.arrayValue ?? []
            #expect(followed.count == 1 && followed.first?.objectValue?["sequenceNumber"] == .number(3) && followed.first?.objectValue?["timestamp"] == .string("2020-01-01T00:00:00.000Z"))
            // Hidden and shown again, it keeps its number.
            _ = try await client.call(.patch, "/replica/\(registered)", token: server.admin, body: #"{"isHidden":true}"#)
            _ = try await client.call(.patch, "/replica/\(registered)", token: server.admin, body: #"{"isHidden":false}"#)
            #expect(try await client.call(.get, "/replica/\(registered)", token: server.reader).json.objectValue?["sequenceNumber"] == .number(3))
            _ = try await client.call(.delete, "/replica/\(registered)", token: server.admin)

            let deleted = try await client.call(.delete, "/replica/\(id)", token: server.admin)
            #expect(deleted.status == .ok && deleted.json.objectValue?["urls"]?.arrayValue?.first?.stringValue == url)
            #expect(try await client.call(.get, zipPath, token: server.reader).status == .notFound)
            #expect(try await client.call(.get, listing, token: server.reader).json.arrayValue?.count == 1)
        }
    }
}
