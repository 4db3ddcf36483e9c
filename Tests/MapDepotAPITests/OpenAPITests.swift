import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JSONValues
import MapDepotAPI
import MapDepotCore
import Testing
import TestSupport

/// Issue #12: the API document is tested, not trusted. Every route the server registers has an entry; the live server
/// (the real binary, with the demo's product, a layer with replicas and a task) is run through Schemathesis (PyPI)
/// from our own document with a fixed seed and a bounded number of examples: no 5xx, every answer's status, content
/// type and body as documented.
@Suite(.serialized) struct OpenAPITests {
    static let document = Fixtures.packageRoot.appendingPathComponent("Docs/openapi.yaml").path

    /// The document's paths, in the router's notation (`{id}` → `:id`, a catch-all `{key}` → `**`).
    static func documentedRoutes() throws -> Set<String> {
        let doc = try JSONValue.parse(try Data(contentsOf: URL(fileURLWithPath: document)))
        var routes = Set<String>()
        for (path, item) in doc.objectValue?["paths"]?.objectValue ?? [:] {
            for method in (item.objectValue ?? [:]).keys where ["get", "post", "put", "patch", "delete", "head"].contains(method) {
                let route = path.dropFirst().split(separator: "/").map { part in
                    part == "{key}" || part == "{path}" ? "**" : part.hasPrefix("{") ? ":" + part.dropFirst().dropLast() : String(part)
                }.joined(separator: "/")
                routes.insert("\(method.uppercased()) \(route)")
            }
        }
        return routes
    }

    /// The routes the sources register (`router.get("…")` and the control loop), read from the route files.
    static func registeredRoutes() throws -> Set<String> {
        let directory = Fixtures.packageRoot.appendingPathComponent("Sources/MapDepotAPI/Routes").path
        var routes = Set<String>()
        let pattern = try NSRegularExpression(pattern: #"router\.(get|post|put|patch|delete|head)\("([^"]*)""#)
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) where name.hasSuffix(".swift") {
            let text = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
            for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let method = String(text[Range(match.range(at: 1), in: text)!]).uppercased()
                var path = String(text[Range(match.range(at: 2), in: text)!])
                if path.contains("\\(action.rawValue)") {
                    for action in ExportControlNames.all { routes.insert("\(method) \(path.replacingOccurrences(of: "\\(action.rawValue)", with: action))") }
                    continue
                }
                if path.contains("\\(name)") {
                    for name in ["openapi.json", "openapi.yaml"] { routes.insert("\(method) \(path.replacingOccurrences(of: "\\(name)", with: name))") }
                    continue
                }
                if path == "ui" { continue }  // the redirect to `ui/`, documented as `/ui/{path}`
                path = path == "ui/**" ? "ui/**" : path
                routes.insert("\(method) \(path)")
            }
        }
        return routes
    }

    enum ExportControlNames {
        static let all = ["pause", "resume", "abort", "archive"]
    }

    @Test func everyRouteHasADocumentEntry() throws {
        let documented = try Self.documentedRoutes()
        let registered = try Self.registeredRoutes()
        #expect(registered.subtracting(documented).isEmpty, "routes without a document entry: \(registered.subtracting(documented).sorted())")
        #expect(documented.subtracting(registered).isEmpty, "document entries without a route: \(documented.subtracting(registered).sorted())")
    }

    @Test func theDocumentIsServed() async throws {
        let server = try await TestServer.make {
            $0.ui.dir = WebToolTests.pages
            $0.ui.openAPIDocument = Self.document
        }
        try await server.run { client in
            let json = try await client.call(.get, "/docs/openapi.json")
            #expect(json.status == .ok && json.headers[.contentType] == "application/json")
            #expect(json.json.objectValue?["openapi"] == .string("3.1.0"))
            #expect(try await client.call(.get, "/docs/openapi.yaml").headers[.contentType] == "application/yaml")
            let page = try await client.call(.get, "/docs")
            #expect(page.status == .ok && String(buffer: page.body).contains("MapDepot API"))
        }
    }

    /// Schemathesis against the real binary, from our document: every operation, positive and negative cases, seed 1,
    /// a bounded number of examples per operation.
    @Test func theLiveServerKeepsItsDocument() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CrashSafetyTests.binary), "build the binary first (scripts/test does)")
        let tools = ProcessInfo.processInfo.environment["MAPDEPOT_TEST_PYTHON"].map { URL(fileURLWithPath: $0).deletingLastPathComponent().path }
        let schemathesis = (tools ?? Fixtures.packageRoot.appendingPathComponent(".venv/bin").path) + "/schemathesis"
        try #require(FileManager.default.isExecutableFile(atPath: schemathesis), "\(schemathesis) is missing: scripts/install-deps installs it")
        let fixture = try await BinaryFixture.make("openapi", scopes: [.export, .admin, .replicationRead, .replicationWrite])
        defer { fixture.components.close() }
        try await WebToolTests.makeDelta(fixture.components.replication)
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = client.shutdown() }
        let report = Fixtures.packageRoot.appendingPathComponent(".build/schemathesis").path
        let result = try await WebToolTests.withServer(fixture, client: client, worker: true) { base in
            let created = try await CrashSafetyTests.request(client, "POST", base + "/export-tasks", token: fixture.token, body: SecurityTests.smallExport)
            #expect(created.0 == 201)
            return try await Shell.execute(schemathesis, [
                "run", Self.document, "--url", base, "--header", "x-api-key: \(fixture.token)", "--seed", "1", "--max-examples", "12",
                // Every check but positive_data_acceptance: some valid-looking requests are refused for what a schema
                // cannot say (a layer's geometry types, an ROI outside the product, RASTER only for now), with a 400.
                "--checks", "all", "--exclude-checks", "positive_data_acceptance",
                "--exclude-path-regex", "^/export-tasks/\\{id\\}/events$", "--request-timeout", "20", "--workers", "1",
                "--report", "junit", "--report-dir", report, "--no-color",
            ])
        }
        #expect(result.status == 0, "\(result.output.suffix(6_000))")
    }
}
