import Foundation
import HTTPTypes
import HummingbirdTesting
import JSONValues
import MapDepotAPI
import MapDepotCore
import NIOCore
import Testing
import TestSupport

/// `GET /replica` paging and the sequence cursor (issue #14 items 1 and 3): `limit` and an opaque `cursor` with
/// `Link: rel="next"`, `after_sequence=N` in sequence order; the plain MapColonies call still lists everything.
@Suite struct ReplicaPagingTests {
    static let listing = "/replica?layer_id=4&geometry_type=point&replica_type=delta"

    /// Follows `Link: rel="next"` from `first` and returns every page's sequence numbers.
    static func walk(_ client: some TestClientProtocol, _ first: String, token: String) async throws -> [[Double]] {
        var pages: [[Double]] = []
        var next: String? = first
        while let uri = next, pages.count < 20 {
            let response = try await client.call(.get, uri, token: token)
            #expect(response.status == .ok, "\(uri): \(response.message)")
            pages.append(response.json.arrayValue?.compactMap { $0.objectValue?["sequenceNumber"]?.numberValue } ?? [])
            next = response.headers[HTTPField.Name("Link")!].flatMap { $0.firstMatch(of: /<([^>]+)>; rel="next"/).map { String($0.1) } }
        }
        return pages
    }

    @Test func pagesFollowTheCursorAndSequencesFollowTheirNumber() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            _ = try await client.call(.post, "/layers", token: server.admin, body: #"{"layerId":4,"layerName":"pages","geometryTypes":["point"]}"#)
            for index in 1...5 {
                _ = try await client.call(.post, "/layers/4/changes", token: server.writer, body: ReplicationAPITests.upserts(ReplicationAPITests.feature("{\(index)}", Double(index), "P\(index)")))
                let delta = try await client.call(.post, "/layers/4/replicas", token: server.writer, body: #"{"replicaType":"delta","geometryType":"point"}"#)
                #expect(delta.status == .created)
            }
            let all = try await client.call(.get, Self.listing + "&sort=asc", token: server.reader)
            #expect(all.json.arrayValue?.count == 5 && all.headers[HTTPField.Name("Link")!] == nil, "the plain call lists everything")

            #expect(try await Self.walk(client, Self.listing + "&sort=asc&limit=2", token: server.reader) == [[1, 2], [3, 4], [5]])
            #expect(try await Self.walk(client, Self.listing + "&limit=2", token: server.reader) == [[5, 4], [3, 2], [1]])
            #expect(try await Self.walk(client, Self.listing + "&after_sequence=2", token: server.reader) == [[3, 4, 5]])
            #expect(try await Self.walk(client, Self.listing + "&after_sequence=2&limit=1", token: server.reader) == [[3], [4], [5]])
            #expect(try await Self.walk(client, Self.listing + "&after_sequence=5", token: server.reader) == [[]])

            for (query, message) in [
                ("&limit=0", "request/query/limit must be >= 1"), ("&limit=1001", "request/query/limit must be <= 1000"),
                ("&limit=x", "request/query/limit must be integer"), ("&cursor=nonsense", "request/query/cursor is not a cursor this server gave out"),
                ("&after_sequence=-1", "request/query/after_sequence must be integer >= 0"),
                ("&after_sequence=1&sort=desc", "request/query/sort: after_sequence lists in sequence order (asc)"),
            ] {
                let refused = try await client.call(.get, Self.listing + query, token: server.reader)
                #expect(refused.status == .badRequest && refused.message == message, "\(query): \(refused.message)")
            }
        }
    }
}
