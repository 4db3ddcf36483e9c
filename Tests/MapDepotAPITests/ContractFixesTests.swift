import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JSONValues
import MapDepotAPI
import Testing
import TestSupport

/// Issue #12's "fell short" list, each point checked over HTTP.
@Suite struct ContractFixesTests {
    @Test func whatTheContractsAskForIsAnswered() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            try await client.addRecord(server)
            // An undeclared method on a served path: 405 with Allow, not 404.
            let trace = try await client.call(.init("TRACE")!, "/layers", token: server.reader)
            #expect(trace.status == .methodNotAllowed && trace.headers[.allow] == "GET, POST")
            #expect(try await client.call(.put, "/nowhere", token: server.reader).status == .notFound)
            // A task's parameters is an object, {} when none were sent.
            let created = try await client.call(.post, "/export-tasks", token: server.alice, body: SecurityTests.smallExport)
            #expect(created.status == .created)
            #expect(created.json.objectValue?["parameters"] == .object([:]))
            // U+0000 is refused with the member that holds it.
            let nul = try await client.call(.post, "/layers", token: server.admin, body: #"{"layerName":"a\u0000b","geometryTypes":["point"]}"#)
            #expect(nul.status == .badRequest && nul.message.contains("layerName"))
            // A fractional layer id is named as written; any RFC 3339 offset is read.
            let latest = try await client.call(.get, "/replica/latest?layer_id=1.5&geometry_type=point&replica_type=delta", token: server.reader)
            #expect(latest.status == .notFound && latest.message.contains("on layer 1.5 "), "\(latest.message)")
            let offset = try await client.call(.get, "/replica?layer_id=1&geometry_type=point&replica_type=delta&exclusive_from=2026-12-01T08:23:45-21:20", token: server.reader)
            #expect(offset.status == .ok, "\(offset.message)")
        }
    }
}
