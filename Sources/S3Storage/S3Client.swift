import AsyncHTTPClient
import Crypto
import Foundation
import MapDepotCore
import NIOCore
import NIOHTTP1

/// The S3 operations MapDepot needs, over AsyncHTTPClient, each request signed with SigV4: single and multipart
/// uploads, ranged reads, listing and deleting under a prefix, pre-signed download URLs.
///
/// Transient failures (HTTP 5xx, 429, `SlowDown`, connection errors) are retried as ``RetryPolicy`` says, with a
/// doubling pause; every operation used is idempotent, so a retry after a lost answer does no harm.
public struct S3Client: Sendable {
    /// How long a store that answers 500/503 is waited for (issue #9): by default 8 attempts over ~25 s (pauses of
    /// 0.2, 0.4 … 12.8 s), so that a brief outage or a throttling burst does not fail an export that took minutes.
    public struct RetryPolicy: Sendable {
        public var attempts: Int
        public var firstDelay: Duration
        public var maxDelay: Duration

        public init(attempts: Int = 8, firstDelay: Duration = .milliseconds(200), maxDelay: Duration = .seconds(20)) {
            self.attempts = max(1, attempts)
            self.firstDelay = firstDelay
            self.maxDelay = maxDelay
        }
    }

    public let endpoint: S3Endpoint
    public let signer: SigV4Signer
    let http: HTTPClient
    let clock: any WallClock
    let retry: RetryPolicy
    var timeout: TimeAmount = .seconds(300)

    public init(
        endpoint: S3Endpoint, signer: SigV4Signer, http: HTTPClient = .shared, clock: any WallClock = SystemClock(), retry: RetryPolicy = RetryPolicy()
    ) {
        self.endpoint = endpoint
        self.signer = signer
        self.http = http
        self.clock = clock
        self.retry = retry
    }

    // MARK: Buckets and objects

    /// Creates the bucket; one that already exists and is ours is fine.
    public func createBucket() async throws {
        let response = try await send("CreateBucket", method: .PUT, objectKey: nil, accept: [200, 409])
        if response.status == 409, !["BucketAlreadyOwnedByYou", "BucketAlreadyExists"].contains(response.error.code) {
            throw response.error
        }
    }

    /// Throws unless the bucket exists and these credentials may use it.
    public func headBucket() async throws {
        _ = try await send("HeadBucket", method: .HEAD, objectKey: nil)
    }

    /// Stores `body` at `objectKey` in one request (S3 allows up to 5 GiB; MapDepot uses it below the part size).
    public func putObject(_ objectKey: String, body: ByteBuffer, contentType: String, payloadHash: String? = nil) async throws {
        _ = try await send(
            "PutObject", method: .PUT, objectKey: objectKey, headers: [("content-type", contentType)], body: body, payloadHash: payloadHash
        )
    }

    /// The bytes of an object (a range of them when `range` is set) as a stream, or nil when there is no such object.
    public func getObject(_ objectKey: String, range: ClosedRange<Int>? = nil) async throws -> HTTPClientResponse? {
        let headers = range.map { [("range", "bytes=\($0.lowerBound)-\($0.upperBound)")] } ?? []
        let response = try await execute(
            "GetObject", method: .GET, objectKey: objectKey, headers: headers, body: nil, payloadHash: SigV4Signer.emptyPayloadHash
        )
        switch response.status.code {
        case 200, 206: return response
        case 404: return nil
        default: throw S3Error(operation: "GetObject", status: Int(response.status.code), body: try await Self.text(response))
        }
    }

    /// The size of an object, or nil when there is none.
    public func headObject(_ objectKey: String) async throws -> Int64? {
        let response = try await send("HeadObject", method: .HEAD, objectKey: objectKey, accept: [200, 404])
        guard response.status == 200 else { return nil }
        return response.headers.first(name: "content-length").flatMap { Int64($0) }
    }

    public func deleteObject(_ objectKey: String) async throws {
        _ = try await send("DeleteObject", method: .DELETE, objectKey: objectKey, accept: [200, 204, 404])
    }

    /// Every object key starting with `prefix` (ListObjectsV2, following continuation tokens).
    public func listObjects(prefix: String) async throws -> [String] {
        var keys: [String] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", prefix)]
            if let token { query.append(("continuation-token", token)) }
            let response = try await send("ListObjectsV2", method: .GET, objectKey: nil, query: query)
            keys += XMLText.values(of: "Key", in: response.body)
            let truncated = XMLText.values(of: "IsTruncated", in: response.body).first == "true"
            token = truncated ? XMLText.values(of: "NextContinuationToken", in: response.body).first : nil
        } while token != nil
        return keys
    }

    // MARK: Multipart upload

    public func createMultipartUpload(_ objectKey: String, contentType: String) async throws -> String {
        let response = try await send(
            "CreateMultipartUpload", method: .POST, objectKey: objectKey, query: [("uploads", "")], headers: [("content-type", contentType)]
        )
        guard let id = XMLText.values(of: "UploadId", in: response.body).first, !id.isEmpty else {
            throw S3Error(operation: "CreateMultipartUpload", status: 200, code: "NoUploadId", message: String(response.body.prefix(200)))
        }
        return id
    }

    /// Uploads part `number` (1…10,000; every part but the last ≥ 5 MiB) and returns its ETag.
    public func uploadPart(_ objectKey: String, uploadId: String, number: Int, body: ByteBuffer, payloadHash: String? = nil) async throws -> String {
        let response = try await send(
            "UploadPart", method: .PUT, objectKey: objectKey, query: [("partNumber", String(number)), ("uploadId", uploadId)], body: body,
            payloadHash: payloadHash
        )
        guard let etag = response.headers.first(name: "etag") else {
            throw S3Error(operation: "UploadPart", status: 200, code: "NoETag", message: "the answer has no ETag")
        }
        return etag
    }

    /// Joins the parts into the object: it appears whole, at once, or not at all.
    public func completeMultipartUpload(_ objectKey: String, uploadId: String, parts: [(number: Int, etag: String)]) async throws {
        let xml = "<CompleteMultipartUpload>"
            + parts.map { "<Part><PartNumber>\($0.number)</PartNumber><ETag>\(XMLText.escape($0.etag))</ETag></Part>" }.joined()
            + "</CompleteMultipartUpload>"
        let response = try await send(
            "CompleteMultipartUpload", method: .POST, objectKey: objectKey, query: [("uploadId", uploadId)],
            headers: [("content-type", "application/xml")], body: ByteBuffer(string: xml)
        )
        // S3 may answer 200 and still fail, with an <Error> body.
        if response.body.contains("<Error>") { throw S3Error(operation: "CompleteMultipartUpload", status: 200, body: response.body) }
    }

    /// Multipart uploads begun and neither completed nor aborted under `prefix` (a node that died mid-upload leaves
    /// one; S3 keeps, and bills, its parts until it is aborted).
    public func listMultipartUploads(prefix: String) async throws -> [(key: String, uploadId: String)] {
        let response = try await send("ListMultipartUploads", method: .GET, objectKey: nil, query: [("uploads", ""), ("prefix", prefix)])
        let uploads = response.body.components(separatedBy: "<Upload>").dropFirst()
        return uploads.compactMap { upload in
            guard let key = XMLText.values(of: "Key", in: upload).first, let id = XMLText.values(of: "UploadId", in: upload).first else { return nil }
            return (key, id)
        }
    }

    public func abortMultipartUpload(_ objectKey: String, uploadId: String) async throws {
        _ = try await send(
            "AbortMultipartUpload", method: .DELETE, objectKey: objectKey, query: [("uploadId", uploadId)], accept: [200, 204, 404]
        )
    }

    // MARK: Pre-signed URLs

    /// A URL anyone can GET the object with until `expires` seconds from now; `fileName` becomes the download's
    /// `Content-Disposition`.
    public func presignedGetURL(_ objectKey: String, expires: Int, fileName: String?) -> String {
        var query: [(String, String)] = []
        if let fileName { query.append(("response-content-disposition", "attachment; filename=\"\(fileName)\"")) }
        let path = endpoint.path(objectKey: objectKey)
        let request = SigV4Signer.Request(method: "GET", host: endpoint.hostHeader, path: path, query: query)
        let signed = signer.presignedQuery(request, expires: expires, date: clock.now())
        return endpoint.url(path: path, query: SigV4Signer.canonicalQuery(signed))
    }

    // MARK: Requests

    struct Answer {
        var status: Int
        var headers: HTTPHeaders
        var body: String
        var error: S3Error { S3Error(operation: "", status: status, body: body) }
    }

    /// Sends a request with a small (in-memory) body and reads the whole answer; statuses outside `accept` (2xx by
    /// default) throw ``S3Error``.
    func send(
        _ operation: String, method: HTTPMethod, objectKey: String?, query: [(String, String)] = [], headers: [(String, String)] = [],
        body: ByteBuffer? = nil, payloadHash: String? = nil, accept: Set<Int>? = nil
    ) async throws -> Answer {
        let payloadHash = payloadHash ?? body.map { buffer in Hex.encode(SHA256.hash(data: Array(buffer.readableBytesView))) } ?? SigV4Signer.emptyPayloadHash
        let attempts = retry.attempts
        var delay = retry.firstDelay
        for attempt in 1...attempts {
            do {
                let response = try await execute(
                    operation, method: method, objectKey: objectKey, query: query, headers: headers, body: body, payloadHash: payloadHash
                )
                let text = method == .HEAD ? "" : try await Self.text(response)
                let status = Int(response.status.code)
                let accepted = accept?.contains(status) ?? (200..<300).contains(status)
                if accepted { return Answer(status: status, headers: response.headers, body: text) }
                let error = S3Error(operation: operation, status: status, body: text)
                if !error.isTransient || attempt == attempts { throw error }
            } catch let error as S3Error {
                throw error
            } catch {
                if attempt == attempts { throw error }
            }
            try await Task.sleep(for: delay)
            delay = min(delay * 2, retry.maxDelay)
        }
        preconditionFailure("the loop returns or throws on its last attempt")
    }

    func execute(
        _ operation: String, method: HTTPMethod, objectKey: String?, query: [(String, String)] = [], headers: [(String, String)],
        body: ByteBuffer?, payloadHash: String
    ) async throws -> HTTPClientResponse {
        let path = endpoint.path(objectKey: objectKey)
        let signing = SigV4Signer.Request(method: method.rawValue, host: endpoint.hostHeader, path: path, query: query, headers: headers)
        var request = HTTPClientRequest(url: endpoint.url(path: path, query: SigV4Signer.canonicalQuery(query)))
        request.method = method
        request.headers.add(name: "host", value: endpoint.hostHeader)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        for (name, value) in signer.sign(signing, payloadHash: payloadHash, date: clock.now()) { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "content-length", value: String(body.readableBytes))
            request.body = .bytes(body)
        }
        return try await http.execute(request, timeout: timeout)
    }

    static func text(_ response: HTTPClientResponse) async throws -> String {
        String(buffer: try await response.body.collect(upTo: 4 * 1024 * 1024))
    }
}
