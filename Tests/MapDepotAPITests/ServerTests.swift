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

@Suite struct HealthAndAuthTests {
    @Test func healthAndMetricsAreOpen() async throws {
        try await TestServer.make().run { client in
            #expect(try await client.call(.get, "/liveness").status == .ok)
            #expect(try await client.call(.get, "/readiness").status == .ok)
            let metrics = try await client.call(.get, "/metrics")
            #expect(metrics.status == .ok)
            #expect(String(buffer: metrics.body).contains("mapdepot_build_info"))
        }
    }

    @Test func tokensAreCheckedAndScoped() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let none = try await client.call(.get, "/export-tasks")
            #expect(none.status == .unauthorized)
            #expect(none.message.contains("x-api-key"))
            #expect(try await client.call(.get, "/export-tasks", token: "mdp_nope").status == .unauthorized)
            #expect(try await client.call(.get, "/export-tasks?token=\(server.alice)").status == .ok)
            let forbidden = try await client.call(.post, "/catalog/records", token: server.alice, body: try await TestServer.recordBody())
            #expect(forbidden.status == .forbidden)
            #expect(forbidden.message.contains("admin"))
        }
    }
}

@Suite struct CatalogTests {
    @Test func recordsAreAddedMeasuredListedAndDeleted() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let added = try await client.call(.post, "/catalog/records", token: server.admin, body: try await TestServer.recordBody())
            #expect(added.status == .created)
            let record = try #require(added.json.objectValue)
            // Measured from the tiles: finest zoom 4, footprint the whole world.
            #expect(record["maxResolutionDeg"] == .number(0.703125 / 16))
            #expect(record["footprint"]?.objectValue?["type"] == .string("Polygon"))
            #expect(record["statistics"]?.arrayValue?.count == 5)
            let again = try await client.call(.post, "/catalog/records", token: server.admin, body: try await TestServer.recordBody())
            #expect(again.status == .conflict)
            let list = try await client.call(.get, "/catalog/records", token: server.alice)
            #expect(list.json.arrayValue?.count == 1)
            #expect(try await client.call(.get, "/catalog/records/\(TestServer.recordID)", token: server.alice).status == .ok)
            #expect(try await client.call(.delete, "/catalog/records/\(TestServer.recordID)", token: server.admin).status == .noContent)
            #expect(try await client.call(.get, "/catalog/records/\(TestServer.recordID)", token: server.alice).status == .notFound)
        }
    }
}

/// Every kind of bad input answers a 4xx `{message}` and writes nothing.
@Suite struct BadInputTests {
    struct Case: Sendable, CustomStringConvertible {
        var method: HTTPRequest.Method
        var path: String
        var body: String?
        var status: HTTPResponse.Status
        var message: String
        var description: String { "\(method) \(path) → \(status.code)" }
    }

    static let square = #"{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]]]}"#
    static func request(roi: String = #"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":\#(square)}]}"#, extra: String = "", domain: String = "RASTER") -> String {
        #"{"catalogRecordID":"\#(TestServer.recordID)","domain":"\#(domain)","artifactCRS":"4326","webhooks":[],"ROI":\#(roi)\#(extra)}"#
    }
    static func feature(_ properties: String, geometry: String = square) -> String {
        #"{"type":"FeatureCollection","features":[{"type":"Feature","properties":\#(properties),"geometry":\#(geometry)}]}"#
    }

    static let cases: [Case] = [
        Case(method: .post, path: "/export-tasks", body: "{not json", status: .badRequest, message: "not valid JSON"),
        Case(method: .post, path: "/export-tasks", body: "", status: .badRequest, message: "body is empty"),
        Case(method: .post, path: "/export-tasks", body: "[1,2]", status: .badRequest, message: "must be a JSON object"),
        Case(method: .post, path: "/export-tasks", body: request(extra: #","bbox":[0,0,1,1]"#), status: .badRequest, message: "bbox is not an allowed field"),
        Case(method: .post, path: "/export-tasks", body: #"{"domain":"RASTER"}"#, status: .badRequest, message: "catalogRecordID is required"),
        Case(method: .post, path: "/export-tasks", body: request(domain: "DEM"), status: .badRequest, message: #"domain "DEM" does not match the catalog record's domain "RASTER""#),
        Case(method: .post, path: "/export-tasks", body: request(roi: feature("{}", geometry: #"{"type":"LineString","coordinates":[[0,0],[1,1]]}"#)), status: .badRequest, message: "must be a Polygon or MultiPolygon, found LineString"),
        Case(method: .post, path: "/export-tasks", body: request(roi: feature("{}", geometry: #"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}"#)), status: .badRequest, message: "ring is not closed"),
        Case(method: .post, path: "/export-tasks", body: request(roi: feature(#"{"maxResolutionDeg":0.02197265625}"#)), status: .badRequest, message: "is finer than the product's resolution"),
        Case(method: .post, path: "/export-tasks", body: request(roi: feature(#"{"maxResolutionDeg":0.17578125,"minResolutionDeg":0.0439453125}"#)), status: .badRequest, message: "the minimum resolution must be the coarser one"),
        Case(method: .post, path: "/export-tasks", body: request(roi: feature(#"{"maxResolutionDeg":5}"#)), status: .badRequest, message: "is outside zoom 0–22"),
        Case(method: .post, path: "/export-tasks", body: request().replacingOccurrences(of: TestServer.recordID, with: "00000000-0000-0000-0000-000000000000"), status: .notFound, message: "catalog record 00000000-0000-0000-0000-000000000000 is not found"),
        Case(method: .post, path: "/export-tasks/estimate", body: request(roi: feature("{}", geometry: #"{"type":"Polygon","coordinates":[[[-180,-90],[180,-90],[180,90],[-180,90],[-180,-90]]]}"#)), status: .unprocessableContent, message: "the limit is 500"),
        Case(method: .get, path: "/export-tasks/999", body: nil, status: .notFound, message: "task id: 999 is not found"),
        Case(method: .get, path: "/export-tasks/abc", body: nil, status: .badRequest, message: "id must be a positive integer"),
        Case(method: .get, path: "/export-tasks?limit=1000", body: nil, status: .badRequest, message: "requested limit 1000 is higher than the maximum possible limit 100"),
        Case(method: .get, path: "/export-tasks?limit=x", body: nil, status: .badRequest, message: "limit must be an integer"),
        Case(method: .get, path: "/downloads/exports/1/%2e%2e/%2e%2e/mapdepot.sqlite", body: nil, status: .badRequest, message: "is not valid"),
        Case(method: .get, path: "/downloads/exports/1/..%2f..%2fmapdepot.sqlite", body: nil, status: .badRequest, message: "is not valid"),
        Case(method: .get, path: "/downloads/.staging/x", body: nil, status: .badRequest, message: "is not valid"),
        Case(method: .get, path: "/downloads/exports/1/missing.gpkg", body: nil, status: .notFound, message: "task id: 1 is not found"),
        Case(method: .get, path: "/catalog/records/not-a-uuid", body: nil, status: .badRequest, message: "id must be a UUID"),
        Case(method: .get, path: "/no/such/route", body: nil, status: .notFound, message: "no route"),
        Case(method: .post, path: "/catalog/records", body: #"{"productId":"x","source":{"type":"directory","path":"/nonexistent/tiles"}}"#, status: .badRequest, message: "source directory /nonexistent/tiles does not exist"),
        Case(method: .post, path: "/catalog/records", body: #"{"productId":"x","source":{"type":"geopackage","path":"/nonexistent.gpkg"}}"#, status: .badRequest, message: "does not exist or cannot be read"),
        Case(method: .post, path: "/catalog/records", body: #"{"productId":"x","source":{"type":"s3","path":"b"}}"#, status: .badRequest, message: #"source.type must be one of"#),
        Case(method: .post, path: "/catalog/records", body: #"{"productId":"../x","source":{"type":"mbtiles","path":"/x"}}"#, status: .badRequest, message: "productId must be letters"),
    ]

    @Test func everyBadInputIsAClear4xxAndWritesNothing() async throws {
        let server = try await TestServer.make { $0.export.maxTiles = 500 }
        try await server.run { client in
            try await client.addRecord(server)
            for item in Self.cases {
                let token = item.path.hasPrefix("/catalog/records") && item.method == .post ? server.admin : server.alice
                let response = try await client.call(item.method, item.path, token: token, body: item.body)
                #expect(response.status == item.status, "\(item): \(response.message)")
                #expect(response.message.contains(item.message), "\(item): \(response.message)")
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true, "\(item)")
            }
            let tasks = try await client.call(.get, "/export-tasks", token: server.alice)
            #expect(tasks.json == .array([]))
            #expect(try await client.call(.get, "/catalog/records", token: server.admin).json.arrayValue?.count == 1)
        }
    }
}
