import AsyncHTTPClient
import Crypto
import Foundation
import MapDepotCore
import NIOCore
import NIOHTTP1
import S3Storage
import Testing
import TestSupport

/// The S3 artifact store against a real S3-compatible server (moto's, on loopback; `scripts/test` starts it):
/// single and multipart uploads, downloads by pre-signed redirect and streamed with ranges, prefix deletes.
@Suite(.enabled(if: TestS3.endpoint != nil, "needs MAPDEPOT_TEST_S3_ENDPOINT (scripts/test starts moto's server)"))
struct S3ArtifactStoreTests {
    static let mebibyte = 1024 * 1024

    /// A store on a new bucket, keys under `deploy/one`.
    func makeStore(downloads: S3ArtifactStore.DownloadMode = .redirect) async throws -> S3ArtifactStore {
        let endpoint = try S3Endpoint(
            location: "s3://\(TestS3.freshBucket())/deploy/one", endpoint: try TestS3.requiredEndpoint(), region: "us-east-1", pathStyle: true
        )
        let client = S3Client(endpoint: endpoint, signer: SigV4Signer(accessKey: "test", secretKey: "test", region: "us-east-1"))
        try await client.createBucket()
        return try S3ArtifactStore(
            client: client, staging: try Fixtures.temporaryDirectory("s3-staging"),
            settings: .init(partBytes: 5 * Self.mebibyte, uploadConcurrency: 3, downloads: downloads, presignSeconds: 120)
        )
    }

    /// Stages `bytes` at `key` and publishes it.
    func publish(_ bytes: Data, key: String, on store: S3ArtifactStore) async throws -> (size: Int64, sha256: String) {
        let path = try store.stagingPath(for: key)
        try bytes.write(to: URL(fileURLWithPath: path))
        let published = try await store.publish(stagingPath: path, key: key)
        #expect(!FileManager.default.fileExists(atPath: path), "the staged file is removed once uploaded")
        return published
    }

    static func randomBytes(_ count: Int, seed: UInt64) -> Data {
        var generator = SeededGenerator(seed: seed)
        return Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    static func get(_ url: String, range: String? = nil) async throws -> (status: Int, headers: [String: String], body: Data) {
        var request = HTTPClientRequest(url: url)
        if let range { request.headers.add(name: "Range", value: range) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 64 * mebibyte)
        let headers = Dictionary(response.headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
        return (Int(response.status.code), headers, Data(body.readableBytesView))
    }

    @Test func smallAndMultipartUploadsRoundTripThroughPresignedURLs() async throws {
        let store = try await makeStore()
        let small = Self.randomBytes(1_000, seed: 1)
        // 12.5 MiB with 5 MiB parts: three parts, the last one short.
        let large = Self.randomBytes(12 * Self.mebibyte + Self.mebibyte / 2, seed: 2)
        for (key, bytes) in [("exports/7/small file.json", small), ("exports/7/large+package.gpkg", large)] {
            let published = try await publish(bytes, key: key, on: store)
            #expect(published.size == Int64(bytes.count))
            #expect(published.sha256 == sha256Hex(bytes))
            #expect(try await store.client.headObject(store.client.endpoint.objectKey(key)) == Int64(bytes.count))
            guard case .redirect(let url) = try #require(try await store.download(key: key, fileName: "name.bin", range: nil)) else {
                Issue.record("redirect mode answers with a redirect")
                continue
            }
            #expect(url.contains("X-Amz-Signature="))
            // AWS answers with this Content-Disposition; moto ignores the override, so only the URL is checked.
            #expect(url.contains("response-content-disposition=attachment%3B%20filename%3D%22name.bin%22"))
            let whole = try await Self.get(url)
            #expect(whole.status == 200)
            #expect(whole.body == bytes)
            let part = try await Self.get(url, range: "bytes=100-199")
            #expect(part.status == 206)
            #expect(part.body == bytes[100..<200])
        }
        #expect(try await store.client.listObjects(prefix: "deploy/one/exports/7/").sorted()
            == ["deploy/one/exports/7/large+package.gpkg", "deploy/one/exports/7/small file.json"])
    }

    @Test func streamedDownloadsServeRanges() async throws {
        let store = try await makeStore(downloads: .stream)
        let bytes = Self.randomBytes(300_000, seed: 3)
        _ = try await publish(bytes, key: "replicas/1/point/r/a.zip", on: store)
        for range in [nil, 0...0, 1_000...250_999, 299_990...299_999] as [ClosedRange<Int>?] {
            guard case .stream(let chunks) = try #require(try await store.download(key: "replicas/1/point/r/a.zip", fileName: "a.zip", range: range)) else {
                Issue.record("stream mode streams")
                continue
            }
            var received = Data()
            for try await chunk in chunks { received.append(contentsOf: chunk.readableBytesView) }
            #expect(received == (range.map { bytes[$0] } ?? bytes))
        }
        #expect(try await store.download(key: "replicas/1/point/r/missing.zip", fileName: "m.zip", range: nil) == nil)
    }

    @Test func deletingAPrefixRemovesThatFolderOnly() async throws {
        let store = try await makeStore(downloads: .stream)
        for key in ["exports/1/a.gpkg", "exports/1/a.json", "exports/12/b.gpkg"] {
            _ = try await publish(Data(key.utf8), key: key, on: store)
        }
        // A node that died mid-upload left a multipart upload open in the folder.
        let orphan = try await store.client.createMultipartUpload("deploy/one/exports/1/orphan.gpkg", contentType: "application/octet-stream")
        #expect(try await store.client.listMultipartUploads(prefix: "deploy/one/").map(\.uploadId) == [orphan])
        let staged = try store.stagingPath(for: "exports/1/partial.gpkg")
        try Data("partial".utf8).write(to: URL(fileURLWithPath: staged))
        try await store.delete(prefix: "exports/1")
        #expect(try await store.client.listObjects(prefix: "deploy/one/") == ["deploy/one/exports/12/b.gpkg"])
        #expect(!FileManager.default.fileExists(atPath: staged), "staged files of the folder go too")
        #expect(try await store.client.listMultipartUploads(prefix: "deploy/one/").isEmpty, "open uploads of the folder are aborted")
        try await store.check()
        #expect(try await store.download(key: "exports/1/a.gpkg", fileName: "a.gpkg", range: nil) == nil)
        #expect(try await store.download(key: "exports/12/b.gpkg", fileName: "b.gpkg", range: nil) != nil)
    }

    @Test func refusalsAreTypedErrorsAndUnsafeKeysAreRefused() async throws {
        let store = try await makeStore()
        // An unsafe key can only come from our own code (routes refuse unsafe paths first): an internal failure, a 500.
        #expect(throws: StorageFailure.self) { try store.stagingPath(for: "../outside") }
        let missing = S3Client(
            endpoint: try S3Endpoint(location: "s3://\(TestS3.freshBucket())", endpoint: try TestS3.requiredEndpoint(), region: "us-east-1", pathStyle: true),
            signer: store.client.signer
        )
        await #expect {
            try await missing.putObject("a.json", body: ByteBuffer(string: "{}"), contentType: "application/json")
        } throws: { error in
            (error as? S3Error)?.code == "NoSuchBucket" && (error as? S3Error)?.status == 404
        }
    }
}
