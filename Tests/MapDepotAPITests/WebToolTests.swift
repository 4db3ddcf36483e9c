import AsyncHTTPClient
import ExportCore
import Foundation
import GeoJSON
import JSONValues
import MapDepotAPI
import MapDepotCore
import ReplicationCore
import Testing
import TestSupport

/// Issue #11: the web tool in a real browser — Debian's headless Chromium driven by Selenium (`Tests/Web/browser_test.py`)
/// against the real `mapdepot serve`. First without a worker, so tasks wait in the queue: sign in (a wrong token
/// refused plainly), draw a polygon by clicking on the map, compare the page's estimate with the API's, export, pause
/// and resume from the page, upload a MultiPolygon ROI and export it. Then with the worker (paced to 100 tiles a
/// second): both tasks reach 100 % through Server-Sent Events, the page's download link gives a GeoPackage GDAL
/// validates, a running export of the whole footprint is paused and resumed from the page, and the replication page
/// opens a delta with its created, modified and deleted features and a `diff` popup. No page logs a console error;
/// screenshots of each page land in `.build/screenshots/`.
@Suite(.serialized) struct WebToolTests {
    static let script = Fixtures.packageRoot.appendingPathComponent("Tests/Web/browser_test.py").path
    static let pages = Fixtures.packageRoot.appendingPathComponent("Web").path

    @Test func theWebToolExportsAndShowsReplicasInARealBrowser() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CrashSafetyTests.binary), "build the binary first (scripts/test does)")
        for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
            try #require(FileManager.default.isExecutableFile(atPath: tool), "\(tool) is missing: scripts/install-deps installs it")
        }
        let fixture = try await BinaryFixture.make("web", scopes: [.export, .admin, .replicationRead, .replicationWrite])
        defer { fixture.components.close() }
        try await Self.makeDelta(fixture.components.replication)
        // A 3D product beside the raster one (issue #13).
        let tileset = try TilesetFixtures.handMade()
        let record = #"{"productId":"fixture3d","productName":"Hand-made 3D","productType":"3DPhotoRealistic","domain":"3D","source":{"type":"3dtiles","path":"\#(tileset)/tileset.json"}}"#
        _ = try await fixture.components.catalog.add(try CatalogRecordDraft(json: try JSONValue.parse(Data(record.utf8))))
        let dem = Fixtures.sharedData.appendingPathComponent("jacksboro_dem_4326.tif").path
        let demRecord = #"{"productId":"jacksboro","productName":"Jacksboro DEM","productType":"DTM","domain":"DEM","verticalDatum":"EGM96","source":{"type":"geotiff","path":"\#(dem)"}}"#
        _ = try await fixture.components.catalog.add(try CatalogRecordDraft(json: try JSONValue.parse(Data(demRecord.utf8))))
        let out = Fixtures.packageRoot.appendingPathComponent(".build/screenshots").path
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = client.shutdown() }

        let queued = try await Self.withServer(fixture, client: client, worker: false) { base in
            try await Self.browser(["queue", base, fixture.token, out])
        }
        let tasks = try #require(queued["tasks"]?.arrayValue, "\(queued)")
        #expect(tasks.count == 2)
        #expect((queued["drawnTiles"]?.numberValue ?? 0) > 0)

        let finished = try await Self.withServer(fixture, client: client, worker: true) { base in
            try await Self.browser(["finish", base, fixture.token, out, CanonicalJSON.text(.array(tasks))])
        }
        let download = try #require(finished["download"]?.stringValue, "\(finished)")
        #expect(try await GDAL.validate(download) == "")
        #expect(finished["delta"]?.stringValue?.contains("1 created, 1 modified, 1 deleted") == true, "\(finished)")
        #expect(finished["popup"]?.stringValue?.contains("\"changedTags\":[\"name\"]") == true, "\(finished)")
        #expect((finished["pausedAt"]?.numberValue ?? 0) > 0, "\(finished)")
        #expect(["Export France", "Export Italy"].contains(finished["country"]?.stringValue ?? ""), "\(finished)")
        #expect(finished["threeD"]?.objectValue?["tiles"] == .number(10), "\(finished)")
        let demDownload = try #require(finished["dem"]?.objectValue?["download"]?.stringValue, "\(finished)")
        #expect(try await GDAL.validate(demDownload) == "")
    }

    /// Layer 1 with three places, a snapshot, then one created, one renamed and one deleted, and the delta of that.
    static func makeDelta(_ replication: ReplicationService) async throws {
        _ = try await replication.createLayer(LayerDraft(layerId: 1, layerName: "places", geometryTypes: [.point]))
        func place(_ id: String, _ x: Double, _ name: String) -> Feature {
            Feature(id: .string(id), geometry: .point(Position(x, 10)), properties: ["name": .string(name)])
        }
        _ = try await replication.applyChanges(ChangeRequest(upserts: [place("{a}", 0, "A"), place("{b}", 10, "B"), place("{c}", 20, "C")]), layerId: 1)
        _ = try await replication.produce(layerId: 1, geometryType: .point, replicaType: .snapshot)
        _ = try await replication.applyChanges(ChangeRequest(upserts: [place("{d}", 30, "D"), place("{a}", 0, "A2")], deletes: ["{b}"]), layerId: 1)
        _ = try await replication.produce(layerId: 1, geometryType: .point, replicaType: .delta)
        // Country outlines the export page offers as selections.
        _ = try await replication.createLayer(LayerDraft(layerId: 2, layerName: "countries", geometryTypes: [.polygon]))
        let countries = try ["France", "Italy"].map { name in
            var country = try Fixtures.country(name)
            country.id = .string("{\(name)}")
            return country
        }
        _ = try await replication.applyChanges(ChangeRequest(upserts: countries), layerId: 2)
        _ = try await replication.produce(layerId: 2, geometryType: .polygon, replicaType: .snapshot)
    }

    /// Runs `body` against the real binary on the fixture's state, then stops it with SIGTERM (it must exit 0).
    static func withServer<T: Sendable>(
        _ fixture: BinaryFixture, client: HTTPClient, worker: Bool, _ body: (String) async throws -> T
    ) async throws -> T {
        let port = try CrashSafetyTests.freePort()
        let base = "http://127.0.0.1:\(port)"
        let server = CrashSafetyTests.mapdepot(
            ["serve", "--port", "\(port)"] + (worker ? [] : ["--no-worker"]), dataDir: fixture.directory,
            settings: [
                "MAPDEPOT_PUBLIC_URL": base, "MAPDEPOT_DATABASE_URL": fixture.config.database.url, "MAPDEPOT_UI_DIR": pages,
                "MAPDEPOT_HTTP_RATE_LIMIT_PER_SECOND": "0",
                // Paced, so that an export runs long enough to be paused from the page.
                "MAPDEPOT_EXPORT_MAX_TILES_PER_SECOND": "100", "MAPDEPOT_EXPORT_WRITE_BATCH": "20",
            ]
        )
        try server.run()
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        try await CrashSafetyTests.waitUntilLive(client, base)
        let result = try await body(base)
        kill(server.processIdentifier, SIGTERM)
        #expect(try await CrashSafetyTests.waitForExit(server, timeout: 40) == 0)
        return result
    }

    /// Runs one phase of the browser script and returns its report; a failed step fails the test with its message.
    static func browser(_ arguments: [String]) async throws -> [String: JSONValue] {
        let result = try await Shell.execute(GDAL.python, [script] + arguments)
        let last = result.output.split(separator: "\n").last.map(String.init) ?? ""
        let report = (try? JSONValue.parse(Data(last.utf8)))?.objectValue ?? [:]
        #expect(result.status == 0 && report["ok"] == .bool(true), "browser phase \(arguments[0]): \(report["failed"] ?? .string(last)) \(result.error.suffix(2_000))")
        return report
    }
}
