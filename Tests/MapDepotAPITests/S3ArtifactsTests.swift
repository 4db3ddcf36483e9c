import AsyncHTTPClient
import Foundation
import GeoJSON
import HTTPTypes
import HummingbirdTesting
import JSONValues
import MapDepotAPI
import MapDepotCore
import NIOCore
import NIOHTTP1
import S3Storage
import Testing
import TestSupport

/// Issue #5 part 4: MapDepot with `artifacts.location = s3://…` on a real S3-compatible server (moto's, on loopback).
/// An export and a replica are published to the bucket; downloads answer with a redirect to a pre-signed URL (the
/// default) or stream the bytes through, ranges included; the package that comes back is GDAL-valid.
@Suite(.enabled(if: TestS3.endpoint != nil, "needs MAPDEPOT_TEST_S3_ENDPOINT (scripts/test starts moto's server)"))
struct S3ArtifactsTests {
    /// A client of a new bucket on the test server (moto accepts any credentials; `test` everywhere).
    static func client(bucket: String, prefix: String, endpoint: String) throws -> S3Client {
        S3Client(
            endpoint: try S3Endpoint(location: "s3://\(bucket)/\(prefix)", endpoint: endpoint, region: "us-east-1", pathStyle: true),
            signer: SigV4Signer(accessKey: "test", secretKey: "test", region: "us-east-1")
        )
    }

    /// Creates a new bucket and returns its name.
    static func freshBucket(endpoint: String) async throws -> String {
        let bucket = TestS3.freshBucket()
        try await client(bucket: bucket, prefix: "", endpoint: endpoint).createBucket()
        return bucket
    }

    /// Points `config`'s artifacts at `bucket/prefix` on the test server.
    static func use(bucket: String, prefix: String, in config: inout AppConfig) {
        config.artifacts.location = "s3://\(bucket)/\(prefix)"
        config.artifacts.s3.endpoint = TestS3.endpoint
        config.artifacts.s3.accessKey = "test"
        config.artifacts.s3.secretKey = "test"
    }

    /// A server whose artifacts go to a new bucket.
    static func makeServer(downloads: String) async throws -> (TestServer, S3Client) {
        let endpoint = try TestS3.requiredEndpoint()
        let bucket = try await freshBucket(endpoint: endpoint)
        let server = try await TestServer.make { config in
            use(bucket: bucket, prefix: "mapdepot", in: &config)
            config.artifacts.s3.downloads = downloads
        }
        return (server, try client(bucket: bucket, prefix: "mapdepot", endpoint: endpoint))
    }

    /// The path of an artifact or replica file URL.
    static func path(_ url: JSONValue?) throws -> String {
        guard let text = url?.stringValue, let path = URL(string: text)?.path else { throw FixtureError("no URL in \(String(describing: url))") }
        return path
    }

    static func fetch(_ url: String, headers: [(String, String)] = []) async throws -> (status: Int, body: Data) {
        var request = HTTPClientRequest(url: url)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        return (Int(response.status.code), Data(try await response.body.collect(upTo: 64 << 20).readableBytesView))
    }

    @Test func exportsArePublishedToTheBucketAndDownloadedByRedirect() async throws {
        let (server, s3) = try await Self.makeServer(downloads: "redirect")
        let body = try exportBody(countries: [("France", 4)])
        try await server.run { client in
            try await client.addRecord(server)
            let created = try await client.call(.post, "/export-tasks", token: server.alice, body: body)
            let id = Int(try #require(created.json.objectValue?["id"]?.numberValue))
            let task = try await client.waitForTask(id, token: server.alice)
            #expect(task["status"] == .string("COMPLETED"), "\(task["errorReason"] ?? .null)")
            let artifacts = (task["artifacts"]?.arrayValue ?? []).compactMap(\.objectValue)
            try #require(artifacts.count == 2)
            let sha = try #require(artifacts[0]["sha256"]?.stringValue)
            let path = try Self.path(artifacts[0]["url"])

            // Both files are objects under the prefix; nothing is left staged on the node.
            let objects = try await s3.listObjects(prefix: "mapdepot/exports/")
            #expect(objects.count == 2)
            #expect(try FileManager.default.subpathsOfDirectory(atPath: server.config.stagingPath).allSatisfy { !$0.hasSuffix(".gpkg") })

            // GET → 307 to a pre-signed URL, which serves the package (and ranges of it); HEAD and 304 come from the record.
            let redirect = try await client.call(.get, path, token: server.alice)
            #expect(redirect.status == .temporaryRedirect)
            #expect(redirect.headers[.eTag] == "\"\(sha)\"")
            let location = try #require(redirect.headers[.location])
            #expect(location.hasPrefix(TestS3.endpoint ?? "-") && location.contains("X-Amz-Signature="))
            let package = try await Self.fetch(location)
            #expect(package.status == 200)
            #expect(sha256Hex(package.body) == sha)
            let range = try await Self.fetch(location, headers: [("Range", "bytes=100-199")])
            #expect(range.status == 206 && range.body == package.body[100..<200])
            let head = try await client.call(.head, path, token: server.alice)
            #expect(head.status == .ok && head.headers[.contentLength] == "\(package.body.count)")
            #expect(try await client.call(.get, path, token: server.alice, headers: [.ifNoneMatch: "\"\(sha)\""]).status == .notModified)
            #expect(try await client.call(.get, path, token: server.bob).status == .notFound)

            let file = try Fixtures.temporaryDirectory("s3-e2e") + "/package.gpkg"
            try package.body.write(to: URL(fileURLWithPath: file))
            #expect(try await GDAL.validate(file) == "")
            #expect(try await GDAL.info(file).contains("GPKG"))
        }
    }

    @Test func streamedDownloadsServeExportsAndReplicasThroughTheNode() async throws {
        let (server, _) = try await Self.makeServer(downloads: "stream")
        try await server.run { client in
            try await client.addRecord(server)
            let created = try await client.call(.post, "/export-tasks", token: server.alice, body: try exportBody(countries: [("Fiji", 3)]))
            let id = Int(try #require(created.json.objectValue?["id"]?.numberValue))
            let task = try await client.waitForTask(id, token: server.alice)
            #expect(task["status"] == .string("COMPLETED"), "\(task["errorReason"] ?? .null)")
            let artifact = try #require(task["artifacts"]?.arrayValue?.first?.objectValue)
            let path = try Self.path(artifact["url"])
            let whole = try await client.call(.get, path, token: server.alice)
            #expect(whole.status == .ok)
            let bytes = Data(whole.body.readableBytesView)
            #expect(artifact["sha256"] == .string(sha256Hex(bytes)))
            let part = try await client.call(.get, path, token: server.alice, headers: [.range: "bytes=1000-1999"])
            #expect(part.status == .partialContent)
            #expect(part.headers[.contentRange] == "bytes 1000-1999/\(bytes.count)")
            #expect(Data(part.body.readableBytesView) == bytes[1000..<2000])

            _ = try await client.call(.post, "/layers", token: server.admin, body: #"{"layerId":1,"layerName":"l","geometryTypes":["point"]}"#)
            _ = try await client.call(.post, "/layers/1/changes", token: server.writer, body: ReplicationAPITests.upserts(ReplicationAPITests.feature("{a}", 1, "A")))
            let snapshot = try await client.call(.post, "/layers/1/replicas", token: server.writer, body: #"{"replicaType":"snapshot","geometryType":"point"}"#)
            #expect(snapshot.status == .created)
            let file = try #require(snapshot.json.objectValue?["files"]?.arrayValue?.first?.objectValue)
            let zipPath = try Self.path(file["url"])
            let zip = try await client.call(.get, zipPath, token: server.reader)
            #expect(zip.status == .ok)
            #expect(file["sha256"] == .string(sha256Hex(Data(zip.body.readableBytesView))))
            #expect(Data(zip.body.readableBytesView).prefix(2) == Data("PK".utf8))
        }
    }
}

/// Issue #9 item 4: S3 answering 500/503. A short outage is retried with back-off and the export completes when the
/// store recovers; one longer than the retry budget ends the export FAILED with a reason that names S3, with
/// nothing published, and the server keeps serving.
@Suite(.enabled(if: TestS3.endpoint != nil, "needs MAPDEPOT_TEST_S3_ENDPOINT (scripts/test starts moto's server)"))
struct S3OutageTests {
    /// Exports France to zoom 3 through a proxy that refuses the first `failures` uploads, with `attempts` tries per
    /// request, and hands the finished task to `body`.
    func run(
        failures: Int, attempts: Int,
        _ body: @Sendable (TestServer, any TestClientProtocol, S3Client, FaultyS3Proxy, [String: JSONValue]) async throws -> Void
    ) async throws {
        let endpoint = try TestS3.requiredEndpoint()
        let bucket = try await S3ArtifactsTests.freshBucket(endpoint: endpoint)
        let (proxy, proxyURL) = try await FaultyS3Proxy.start(target: endpoint, failures: failures)
        let server = try await TestServer.make { config in
            S3ArtifactsTests.use(bucket: bucket, prefix: "mapdepot", in: &config)
            config.artifacts.s3.endpoint = proxyURL
            config.artifacts.s3.retryAttempts = attempts
            config.artifacts.s3.retryDelayMilliseconds = 20  // pauses of 20, 40, 80 … ms: the back-off, not its length, is tested
        }
        let s3 = try S3ArtifactsTests.client(bucket: bucket, prefix: "mapdepot", endpoint: endpoint)
        do {
            try await server.run { client in
                try await client.addRecord(server)
                let created = try await client.call(.post, "/export-tasks", token: server.alice, body: try exportBody(countries: [("France", 3)]))
                let id = Int(try #require(created.json.objectValue?["id"]?.numberValue))
                let task = try await client.waitForTask(id, token: server.alice)
                try await body(server, client, s3, proxy, task)
            }
        } catch {
            await proxy.stop()
            throw error
        }
        await proxy.stop()
    }

    @Test func aShortOutageIsRetriedAndTheExportCompletes() async throws {
        try await run(failures: 6, attempts: 8) { server, client, s3, proxy, task async throws in
            #expect(task["status"] == .string("COMPLETED"), "\(task["errorReason"] ?? .null)")
            #expect(proxy.refusals == 6, "six uploads were refused (503 and 500 in turn) and retried")
            let artifact = try #require(task["artifacts"]?.arrayValue?.first?.objectValue)
            let objects = try await s3.listObjects(prefix: "mapdepot/exports/")
            #expect(objects.count == 2)
            let redirect = try await client.call(.get, try S3ArtifactsTests.path(artifact["url"]), token: server.alice)
            let package = try await S3ArtifactsTests.fetch(try #require(redirect.headers[.location]))
            #expect(artifact["sha256"] == .string(sha256Hex(package.body)))
        }
    }

    @Test func anOutageLongerThanTheRetryBudgetFailsTheExportClearly() async throws {
        try await run(failures: 1_000, attempts: 3) { server, client, s3, proxy, task async throws in
            #expect(task["status"] == .string("FAILED"))
            let reason = task["errorReason"]?.stringValue ?? ""
            #expect(reason.contains("S3") && (reason.contains("503") || reason.contains("500")), "\(reason)")
            #expect(proxy.refusals == 3)
            #expect(try await s3.listObjects(prefix: "mapdepot/exports/").isEmpty, "nothing published")
            #expect(try await client.call(.get, "/liveness").status == .ok)
        }
    }
}
