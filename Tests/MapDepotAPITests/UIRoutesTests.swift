import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JSONValues
import MapDepotAPI
import MapDepotCore
import Testing
import TestSupport

/// Issue #11, the server's side of the web tool: its files with their types, `ETag`s (304 on a match) and a strict
/// Content-Security-Policy; Leaflet from Debian's package under `vendor/leaflet/`; and a product's tiles as stored
/// (404 outside the data, a token required).
@Suite struct UIRoutesTests {
    @Test func pagesAreServedWithTypesETagsAndAStrictPolicy() async throws {
        let server = try await TestServer.make { $0.ui.dir = WebToolTests.pages }
        try await server.run { client in
            let redirect = try await client.call(.get, "/ui")
            #expect(redirect.status == .movedPermanently && redirect.headers[.location] == "/ui/")
            let index = try await client.call(.get, "/ui/")
            #expect(index.status == .ok && index.headers[.contentType] == "text/html; charset=utf-8")
            let policy = try #require(index.headers[HTTPField.Name("Content-Security-Policy")!])
            #expect(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline") && policy.contains("frame-ancestors 'none'"))
            let script = try await client.call(.get, "/ui/js/export.js")
            #expect(script.headers[.contentType] == "text/javascript; charset=utf-8" && script.headers[.cacheControl] == "no-cache")
            let etag = try #require(script.headers[.eTag])
            #expect(try await client.call(.get, "/ui/js/export.js", headers: [.ifNoneMatch: etag]).status == .notModified)
            let leaflet = try await client.call(.get, "/ui/vendor/leaflet/leaflet.js")
            #expect(leaflet.status == .ok && leaflet.body.readableBytes > 100_000)
            #expect(try await client.call(.get, "/ui/vendor/leaflet/images/layers.png").headers[.contentType] == "image/png")
            let missing = try await client.call(.get, "/ui/../Package.swift")
            #expect(missing.status == .notFound || missing.status == .badRequest)
            #expect(try await client.call(.get, "/ui/nothing.html").status == .notFound)
        }
    }

    @Test func productTilesAreServedAsStored() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            try await client.addRecord(server)
            let path = "/catalog/records/\(TestServer.recordID)/tiles"
            let tile = try await client.call(.get, path + "/2/3/1?token=\(server.alice)")
            #expect(tile.status == .ok && tile.headers[.contentType] == "image/png")
            let pyramid = try await Fixtures.blueMarblePyramid()
            #expect(Data(tile.body.readableBytesView) == FileManager.default.contents(atPath: "\(pyramid)/2/3/1.png"))
            #expect(try await client.call(.get, path + "/9/3/1", token: server.alice).status == .notFound, "below the finest zoom")
            #expect(try await client.call(.get, path + "/1/4/0", token: server.alice).status == .notFound, "outside the grid")
            #expect(try await client.call(.get, path + "/1/-1/0", token: server.alice).status == .badRequest)
            #expect(try await client.call(.get, path + "/2/3/1").status == .unauthorized)
        }
    }
}
