import AsyncHTTPClient
import ExportCore
import Foundation
import GeoJSON
import HTTPTypes
import HummingbirdTesting
import JSONValues
import Logging
import MapDepotAPI
import MapDepotCore
import NIOCore
import Testing
import TestSupport

/// Issue #9: tokens (list, issue, revoke, rate limit), what other customers can see and fetch, honest metrics.
@Suite struct SecurityTests {
    static let smallExport = LoadTests.body(roi: LoadTests.roi(-10, 40, size: 10, zoom: 2))

    @Test func adminsListIssueAndRevokeTokensThatNeverShowThemselves() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let made = try await client.call(.post, "/tokens", token: server.admin, body: #"{"subject":"carol","scopes":["export"],"expiresInSeconds":3600}"#)
            #expect(made.status == .created)
            let body = made.json.objectValue ?? [:]
            let token = try #require(body["token"]?.stringValue)
            let id = try #require(body["id"]?.stringValue)
            #expect(body["expiresAt"]?.stringValue != nil)
            #expect(try await client.call(.get, "/export-tasks", token: token).status == .ok)

            // Use is recorded in the background: wait for it.
            var list = try await client.call(.get, "/tokens", token: server.admin)
            for _ in 0..<50 where !String(buffer: list.body).contains(#""subject":"carol""#) || Self.lastUsed(list, "carol") == nil {
                try await Task.sleep(for: .milliseconds(100))
                list = try await client.call(.get, "/tokens", token: server.admin)
            }
            #expect(list.status == .ok)
            let text = String(buffer: list.body)
            #expect(!text.contains(token) && !text.contains(TokenService.hash(token)), "a listing must not show a token or its hash")
            let carol = try #require(list.json.arrayValue?.compactMap(\.objectValue).first { $0["subject"] == .string("carol") })
            #expect(carol["id"] == .string(id))
            #expect(carol["lastUsedAt"]?.stringValue != nil, "the token was used")
            #expect(list.json.arrayValue?.count == 6)

            // Not an admin: no listing, no revoking.
            #expect(try await client.call(.get, "/tokens", token: server.alice).status == .forbidden)
            #expect(try await client.call(.delete, "/tokens/\(id)", token: token).status == .forbidden)
            #expect(try await client.call(.delete, "/tokens/\(id)", token: server.admin).status == .noContent)
            #expect(try await client.call(.get, "/export-tasks", token: token).status == .unauthorized)
            #expect(try await client.call(.delete, "/tokens/\(id)", token: server.admin).status == .notFound)
            #expect(try await client.call(.delete, "/tokens/nothex", token: server.admin).status == .badRequest)
            #expect(try await client.call(.post, "/tokens", token: server.admin, body: #"{"subject":"x","scopes":["root"]}"#).status == .badRequest)
        }
    }

    static func lastUsed(_ list: TestResponse, _ subject: String) -> String? {
        list.json.arrayValue?.compactMap(\.objectValue).first { $0["subject"] == .string(subject) }?["lastUsedAt"]?.stringValue
    }

    @Test func anExpiredTokenIsRefused() async throws {
        let server = try await TestServer.make()
        let components = try await MapDepotComponents.open(config: server.config, logger: Logger(label: "test"))
        defer { components.close() }
        let shortLived = try await components.tokens.create(subject: "dave", scopes: [.export], lifetime: 0.5)
        try await Task.sleep(for: .seconds(1))
        try await server.run { client in
            let response = try await client.call(.get, "/export-tasks", token: shortLived)
            #expect(response.status == .unauthorized)
            #expect(response.message.contains("expired"))
        }
    }

    @Test func aTokenThatSendsTooFastIsSlowedWithRetryAfter() async throws {
        let server = try await TestServer.make {
            // One request per 1,000 s after a burst of 5: no refill during the test, however slow the machine.
            $0.http.rateLimitPerSecond = 0.001
            $0.http.rateLimitBurst = 5
        }
        try await server.run { client in
            for _ in 0..<5 { #expect(try await client.call(.get, "/export-tasks", token: server.alice).status == .ok) }
            let refused = try await client.call(.get, "/export-tasks", token: server.alice)
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers[.retryAfter].flatMap { Int($0) }.map { (1...1_000).contains($0) } == true)
            // Another token has a bucket of its own.
            #expect(try await client.call(.get, "/export-tasks", token: server.bob).status == .ok)
        }
    }

    /// Every route that takes an id, called with another customer's token and the owner's ids, answers 404; a signed
    /// link works for its own path only; a customer that aborted its share of a joint export cannot download it.
    @Test func anotherCustomersIdsAreNotFound() async throws {
        var server = try await TestServer.make { $0.worker.run = false }
        let queued = server
        try await queued.run { client in
            try await client.addRecord(queued)
            // Alice exports; Bob joins and leaves while it waits.
            #expect(try await client.call(.post, "/export-tasks", token: queued.alice, body: Self.smallExport).status == .created)
            let joined = try await client.call(.post, "/export-tasks", token: queued.bob, body: Self.smallExport)
            let bobsTask = Int(try #require(joined.json.objectValue?["id"]?.numberValue))
            let aborted = try await client.call(.post, "/export-tasks/\(bobsTask)/abort", token: queued.bob)
            #expect(aborted.status == .ok, "\(aborted.message)")
        }
        server.config.worker.run = true
        let running = server
        try await running.run { client in
            let server = running
            // Export tokens see the record, not where its tiles are on the server's disks.
            let records = try await client.call(.get, "/catalog/records", token: server.alice)
            #expect(records.json.arrayValue?.first?.objectValue?["source"] == nil)
            #expect(try await client.call(.get, "/catalog/records/\(TestServer.recordID)", token: server.alice).json.objectValue?["source"] == nil)
            #expect(try await client.call(.get, "/catalog/records", token: server.admin).json.arrayValue?.first?.objectValue?["source"] != nil)

            let id = 1
            let task = try await client.waitForTask(id, token: server.alice)
            #expect(task["status"] == .string("COMPLETED"))
            let url = try #require(task["artifacts"]?.arrayValue?.first?.objectValue?["url"]?.stringValue)
            let link = try #require(URLComponents(string: url))
            let signed = link.path + "?" + (link.query ?? "")
            for (method, path) in [
                (HTTPRequest.Method.get, "/export-tasks/\(id)"), (.get, "/export-tasks/\(id)/events"), (.get, "/export-tasks/\(id)/webhooks"),
                (.post, "/export-tasks/\(id)/pause"), (.post, "/export-tasks/\(id)/resume"), (.post, "/export-tasks/\(id)/abort"),
                (.post, "/export-tasks/\(id)/archive"), (.get, link.path),
            ] {
                let response = try await client.call(method, path, token: server.bob)
                #expect(response.status == .notFound, "\(method) \(path): \(response.status)")
            }
            #expect(try await client.call(.get, link.path, token: server.alice).status == .ok)
            #expect(try await client.call(.get, signed).status == .ok)
            // The signature is for that path alone.
            let other = link.path.replacingOccurrences(of: ".gpkg", with: ".json") + "?" + (link.query ?? "")
            #expect(try await client.call(.get, other).status != .ok)
            // Bob left the export before it ran: the package is not his to download.
            #expect(try await client.call(.get, link.path, token: server.bob).status == .notFound)
            // Carol joins the completed export: she may.
            let carol = try await client.call(.post, "/export-tasks", token: server.admin, body: Self.smallExport)
            #expect(carol.status == .created || carol.status == .ok)
            #expect(try await client.call(.get, link.path, token: server.admin).status == .ok)
        }
    }

    /// A signed link stops working after the task's `expiredAt` (here the moment it completed: `export.expiry.days` 0).
    @Test func aSignedLinkDoesNotOutliveItsExpiry() async throws {
        let server = try await TestServer.make {
            $0.export.expiryDays = 0
            $0.export.sweepSeconds = 3_600
        }
        try await server.run { client in
            try await client.addRecord(server)
            #expect(try await client.call(.post, "/export-tasks", token: server.alice, body: Self.smallExport).status == .created)
            let task = try await client.waitForTask(1, token: server.alice)
            let url = try #require(task["artifacts"]?.arrayValue?.first?.objectValue?["url"]?.stringValue)
            let link = try #require(URLComponents(string: url))
            // Links are signed to the second: wait until that second is over.
            try await Task.sleep(for: .milliseconds(1_100))
            let expired = try await client.call(.get, link.path + "?" + (link.query ?? ""))
            #expect(expired.status != .ok, "\(expired.status)")
            #expect(expired.headers[.contentType]?.hasPrefix("application/json") == true)
        }
    }

    /// `/metrics` of the real binary labels each answer with the status it had (every 4xx was labelled 500).
    @Test func metricsCountEachAnswerWithItsRealStatus() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CrashSafetyTests.binary))
        let fixture = try await BinaryFixture.make("metrics")
        defer { fixture.components.close() }
        let port = try CrashSafetyTests.freePort()
        let server = CrashSafetyTests.mapdepot(
            ["serve", "--port", "\(port)"], dataDir: fixture.directory, settings: ["MAPDEPOT_DATABASE_URL": fixture.config.database.url]
        )
        try server.run()
        defer { kill(server.processIdentifier, SIGKILL) }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = client.shutdown() }
        let base = "http://127.0.0.1:\(port)"
        try await CrashSafetyTests.waitUntilLive(client, base)
        for _ in 0..<3 { #expect(try await CrashSafetyTests.request(client, "GET", base + "/export-tasks", token: "mdp_wrong").0 == 401) }
        #expect(try await CrashSafetyTests.request(client, "POST", base + "/export-tasks", token: fixture.token, body: "{not json").0 == 400)
        let metrics = String(decoding: try await CrashSafetyTests.request(client, "GET", base + "/metrics", token: nil).1, as: UTF8.self)
        let lines = metrics.split(separator: "\n").filter { $0.hasPrefix("hb_request") }
        #expect(lines.contains { $0.contains(#"http_response_status_code="401""#) && $0.hasSuffix(" 3") }, "\(lines)")
        #expect(lines.contains { $0.contains(#"http_response_status_code="400""#) }, "\(lines)")
        #expect(!lines.contains { $0.contains(#"="500""#) }, "\(lines)")
    }
}
