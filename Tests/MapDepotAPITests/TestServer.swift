import AsyncHTTPClient
import ExportCore
import Foundation
import GeoJSON
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JSONValues
import Logging
import MapDepotAPI
import MapDepotCore
import NIOCore
import NIOHTTP1
import TestSupport

/// A MapDepot on a temporary data directory with three customers' tokens, started for real on a loopback
/// port by HummingbirdTesting's `.live` setup.
struct TestServer {
    var config: AppConfig
    let admin: String
    let alice: String
    let bob: String
    /// `replication:read` only, and `replication:read` + `replication:write`.
    let reader: String
    let writer: String
    static let recordID = "6f4c3a52-4b6e-4d8e-9a55-0a1f2b3c4d5e"

    static func make(_ configure: (inout AppConfig) -> Void = { _ in }) async throws -> TestServer {
        var config = AppConfig()
        config.dataDir = try Fixtures.temporaryDirectory("api")
        config.http.port = 0
        config.http.publicURL = "http://mapdepot.test"
        config.replication.runScheduler = false
        config.database.url = try await TestBackend.freshDatabaseURL()
        configure(&config)
        let components = try await MapDepotComponents.open(config: config, logger: Logger(label: "test"))
        // Closed, so that its connection pool does not outlive the setup (the PostgreSQL pass ran out of connections).
        defer { components.close() }
        return TestServer(
            config: config,
            admin: try await components.tokens.create(subject: "admin", scopes: [.admin], lifetime: nil),
            alice: try await components.tokens.create(subject: "alice", scopes: [.export], lifetime: nil),
            bob: try await components.tokens.create(subject: "bob", scopes: [.export], lifetime: nil),
            reader: try await components.tokens.create(subject: "mirror", scopes: [.replicationRead], lifetime: nil),
            writer: try await components.tokens.create(subject: "editor", scopes: [.replicationRead, .replicationWrite], lifetime: nil)
        )
    }

    func run(_ test: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        var logger = Logger(label: "mapdepot-test")
        logger.logLevel = .warning
        let app = try await buildApplication(config, logger: logger)
        // A failing test's error is carried out of the live setup, not thrown through it: thrown, it cancels the
        // server at once, and a connection the server had accepted but not yet served (a burst's) then traps in
        // swift-nio ("Deinited NIOAsyncWriter without calling finish()", apple/swift-nio#3481), taking the whole test
        // process and every other test's report with it. Returned, the server shuts down gracefully first.
        let outcome = try await app.test(.live) { client -> Result<Void, any Error> in
            do {
                return .success(try await test(client))
            } catch {
                return .failure(error)
            }
        }
        try outcome.get()
    }

    /// The Blue Marble pyramid as the catalog record every test uses.
    static func recordBody() async throws -> String {
        #"{"id":"\#(recordID)","productId":"bluemarble","productName":"Blue Marble","productType":"Orthophoto","source":{"type":"directory","path":"\#(try await Fixtures.blueMarblePyramid())","scheme":"xyz","format":"png"}}"#
    }
}

extension TestClientProtocol {
    /// A request with a token in `x-api-key` and a JSON body.
    func call(
        _ method: HTTPRequest.Method, _ uri: String, token: String? = nil, body: String? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = extra
        if let token { headers[HTTPField.Name("x-api-key")!] = token }
        if body != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
    }

    func addRecord(_ server: TestServer) async throws {
        let response = try await call(.post, "/catalog/records", token: server.admin, body: try await TestServer.recordBody())
        guard response.status == .created else { throw FixtureError("record not added: \(String(buffer: response.body))") }
    }

    /// Polls a task until it leaves PENDING/IN_PROGRESS.
    func waitForTask(_ id: Int, token: String, timeout: Duration = .seconds(90)) async throws -> [String: JSONValue] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let task = try await call(.get, "/export-tasks/\(id)", token: token).json.objectValue ?? [:]
            if let status = task["status"]?.stringValue, !["PENDING", "IN_PROGRESS"].contains(status) { return task }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw FixtureError("task \(id) did not finish within \(timeout)")
    }
}

extension TestResponse {
    var json: JSONValue { (try? JSONValue.parse(Data(body.readableBytesView))) ?? .null }
    var message: String { json.objectValue?["message"]?.stringValue ?? "<no message: \(String(buffer: body))>" }
}

/// An export request body over countries of Natural Earth.
func exportBody(countries: [(name: String, maxZoom: Int?)], record: String = TestServer.recordID) throws -> String {
    let features: [JSONValue] = try countries.map { country in
        var feature = try Fixtures.country(country.name)
        var properties: [String: JSONValue] = [:]
        if let zoom = country.maxZoom { properties["maxResolutionDeg"] = .number(0.703125 / Double(1 << zoom)) }
        feature.properties = properties
        return feature.json
    }
    let body: JSONValue = .object([
        "catalogRecordID": .string(record), "domain": .string("RASTER"), "artifactCRS": .string("4326"),
        "webhooks": .array([]), "ROI": .object(["type": .string("FeatureCollection"), "features": .array(features)]),
    ])
    return String(decoding: try JSONEncoder().encode(body), as: UTF8.self)
}

extension MapDepotComponents {
    /// A published artifact as a local file: its path in a directory store, else downloaded from the object store
    /// (through the pre-signed URL or the stream the store answers with) into a temporary file.
    func fetchArtifact(_ key: String) async throws -> String {
        let name = (key as NSString).lastPathComponent
        let file = try Fixtures.temporaryDirectory("fetched") + "/" + name
        switch try await artifacts.download(key: key, fileName: name, range: nil) {
        case .file(let path):
            return path
        case .redirect(let url):
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(60))
            guard response.status == .ok else { throw FixtureError("\(url) answered \(response.status)") }
            try Data(try await response.body.collect(upTo: 1 << 30).readableBytesView).write(to: URL(fileURLWithPath: file))
        case .stream(let chunks):
            var data = Data()
            for try await chunk in chunks { data.append(contentsOf: chunk.readableBytesView) }
            try data.write(to: URL(fileURLWithPath: file))
        case nil:
            throw FixtureError("no artifact at \(key)")
        }
        return file
    }
}

/// State for tests that start the real binary on it: a fresh data directory (and, in the PostgreSQL pass, a fresh
/// database), the Blue Marble record, and a token. The caller closes ``components``.
struct BinaryFixture {
    let directory: String
    let config: AppConfig
    let components: MapDepotComponents
    let token: String

    static func make(
        _ label: String, subject: String = "alice", scopes: Set<Scope> = [.export, .admin], configure: (inout AppConfig) -> Void = { _ in }
    ) async throws -> BinaryFixture {
        let directory = try Fixtures.temporaryDirectory(label)
        var config = AppConfig()
        config.dataDir = directory
        config.database.url = try await TestBackend.freshDatabaseURL()
        configure(&config)
        let components = try await MapDepotComponents.open(config: config, logger: Logger(label: "test"))
        let token = try await components.tokens.create(subject: subject, scopes: scopes, lifetime: nil)
        _ = try await components.catalog.add(CatalogRecordDraft(json: try JSONValue.parse(Data(try await TestServer.recordBody().utf8))))
        return BinaryFixture(directory: directory, config: config, components: components, token: token)
    }
}
