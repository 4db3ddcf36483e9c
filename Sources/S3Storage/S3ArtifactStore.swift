import AsyncHTTPClient
import Crypto
import Foundation
import MapDepotCore
import NIOCore
import NIOPosix

/// Artifacts in an S3-compatible bucket (`artifacts.location = s3://bucket/prefix`), so that every node of a
/// cluster serves every file without a shared mount.
///
/// Files are built on this node's disk (`staging`), then published by uploading them: one `PutObject` up to
/// `partBytes`, a multipart upload above (parts read and hashed in order, `uploadConcurrency` in flight, aborted on
/// failure). S3 makes an object visible only when its upload completes, so a key holds the whole file or nothing —
/// the same promise the directory store keeps with fsync + rename. Clients download with a redirect to a pre-signed
/// URL (the default: bytes never pass through MapDepot) or, with `downloads = .stream`, through this node.
public struct S3ArtifactStore: ArtifactStore {
    public enum DownloadMode: String, Sendable {
        case redirect, stream
    }

    public struct Settings: Sendable {
        /// Part size of multipart uploads (S3: at least 5 MiB, at most 10,000 parts, so larger files get larger parts).
        public var partBytes = 16 * 1024 * 1024
        public var uploadConcurrency = 4
        public var downloads = DownloadMode.redirect
        /// How long a pre-signed download URL is valid.
        public var presignSeconds = 900

        public init(partBytes: Int = 16 * 1024 * 1024, uploadConcurrency: Int = 4, downloads: DownloadMode = .redirect, presignSeconds: Int = 900) {
            self.partBytes = max(partBytes, 5 * 1024 * 1024)
            self.uploadConcurrency = max(uploadConcurrency, 1)
            self.downloads = downloads
            self.presignSeconds = presignSeconds
        }
    }

    public let client: S3Client
    public let staging: String
    public let settings: Settings
    private let threadPool: NIOThreadPool

    public init(client: S3Client, staging: String, settings: Settings = Settings(), threadPool: NIOThreadPool = .singleton) throws {
        self.client = client
        self.staging = staging
        self.settings = settings
        self.threadPool = threadPool
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
    }

    public func stagingPath(for key: String) throws -> String {
        guard ArtifactKey.isSafe(key) else { throw StorageFailure("artifact key \(key) is not a safe relative path") }
        let path = "\(staging)/\(key)"
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        return path
    }

    /// The upload reads the whole file anyway, so it hashes it whatever `sha256` says.
    public func publish(stagingPath: String, key: String, sha256: String?) async throws -> (size: Int64, sha256: String) {
        guard ArtifactKey.isSafe(key) else { throw StorageFailure("artifact key \(key) is not a safe relative path") }
        let attributes = try FileManager.default.attributesOfItem(atPath: stagingPath)
        let size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
        let objectKey = client.endpoint.objectKey(key)
        let contentType = Self.contentType(key)
        let digest: String
        if size <= Int64(settings.partBytes) {
            let part = try await readPart(path: stagingPath, offset: 0, length: Int(size), hasher: SHA256())
            digest = Hex.encode(part.hasher.finalize())
            try await client.putObject(objectKey, body: part.bytes, contentType: contentType, payloadHash: part.payloadHash)
        } else {
            digest = try await multipartUpload(path: stagingPath, size: size, objectKey: objectKey, contentType: contentType)
        }
        try? FileManager.default.removeItem(atPath: stagingPath)
        return (size, digest)
    }

    public func download(key: String, fileName: String, range: ClosedRange<Int>?) async throws -> ArtifactDownload? {
        guard ArtifactKey.isSafe(key) else { return nil }
        let objectKey = client.endpoint.objectKey(key)
        switch settings.downloads {
        case .redirect:
            return .redirect(url: client.presignedGetURL(objectKey, expires: settings.presignSeconds, fileName: fileName))
        case .stream:
            guard let response = try await client.getObject(objectKey, range: range) else { return nil }
            return .stream(response.body)
        }
    }

    public func delete(prefix: String) async throws {
        guard ArtifactKey.isSafe(prefix) else { return }
        let objectPrefix = client.endpoint.objectKey(prefix)
        // The folder's objects, and an object named exactly `prefix`; never `prefix` + other characters (exports/1 ≠ exports/12).
        var keys = try await client.listObjects(prefix: objectPrefix + "/")
        if try await client.headObject(objectPrefix) != nil { keys.append(objectPrefix) }
        for key in keys { try await client.deleteObject(key) }
        for upload in try await client.listMultipartUploads(prefix: objectPrefix + "/") {
            try await client.abortMultipartUpload(upload.key, uploadId: upload.uploadId)
        }
        let local = "\(staging)/\(prefix)"
        if FileManager.default.fileExists(atPath: local) { try FileManager.default.removeItem(atPath: local) }
    }

    /// The bucket answers to these credentials (`HeadBucket`), and the staging directory is writable.
    public func check() async throws {
        try await client.headBucket()
        guard access(staging, W_OK) == 0 else { throw ServiceError.invalid("\(staging) is not writable: \(String(cString: strerror(errno)))") }
    }

    public func freeBytes() throws -> Int64 {
        let attributes = try FileManager.default.attributesOfFileSystem(forPath: staging)
        return (attributes[.systemFreeSize] as? NSNumber)?.int64Value ?? 0
    }

    public func capacityBytes() throws -> Int64 {
        let attributes = try FileManager.default.attributesOfFileSystem(forPath: staging)
        return (attributes[.systemSize] as? NSNumber)?.int64Value ?? 0
    }

    // MARK: Uploading

    /// Parts are read and hashed in order (the file's SHA-256 needs its bytes in order), uploaded concurrently.
    private func multipartUpload(path: String, size: Int64, objectKey: String, contentType: String) async throws -> String {
        // S3 allows 10,000 parts: a file that needs more gets larger parts.
        let partBytes = max(Int64(settings.partBytes), (size + 9_999) / 10_000)
        let uploadId = try await client.createMultipartUpload(objectKey, contentType: contentType)
        do {
            let client = self.client
            var hasher = SHA256()
            var etags: [Int: String] = [:]
            try await withThrowingTaskGroup(of: (Int, String).self) { group in
                var inFlight = 0
                var offset: Int64 = 0
                var number = 1
                while offset < size {
                    let length = Int(min(partBytes, size - offset))
                    let part = try await readPart(path: path, offset: offset, length: length, hasher: hasher)
                    hasher = part.hasher
                    if inFlight == settings.uploadConcurrency, let (done, etag) = try await group.next() {
                        etags[done] = etag
                        inFlight -= 1
                    }
                    let partNumber = number
                    group.addTask {
                        (partNumber, try await client.uploadPart(objectKey, uploadId: uploadId, number: partNumber, body: part.bytes, payloadHash: part.payloadHash))
                    }
                    inFlight += 1
                    offset += Int64(length)
                    number += 1
                }
                for try await (done, etag) in group { etags[done] = etag }
            }
            let parts = etags.keys.sorted().map { (number: $0, etag: etags[$0]!) }
            try await client.completeMultipartUpload(objectKey, uploadId: uploadId, parts: parts)
            return Hex.encode(hasher.finalize())
        } catch {
            try? await client.abortMultipartUpload(objectKey, uploadId: uploadId)
            throw error
        }
    }

    struct Part: Sendable {
        var bytes: ByteBuffer
        var payloadHash: String
        var hasher: SHA256
    }

    /// Reads `length` bytes at `offset` on the I/O thread pool straight into the buffer that is sent, hashing them
    /// twice there: into the running whole-file `hasher` and on their own (the part's SigV4 payload hash, which S3
    /// checks against what it receives). No copy of the part is made.
    private func readPart(path: String, offset: Int64, length: Int, hasher: SHA256) async throws -> Part {
        try await threadPool.runIfActive {
            let descriptor = open(path, O_RDONLY)
            guard descriptor >= 0 else { throw StorageFailure.posix("staged file \(path) cannot be opened") }
            defer { close(descriptor) }
            var buffer = ByteBufferAllocator().buffer(capacity: length)
            while buffer.readableBytes < length {
                let done = buffer.readableBytes
                let read = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 0) { target in
                    pread(descriptor, target.baseAddress, min(target.count, length - done), off_t(offset) + off_t(done))
                }
                guard read > 0 else { throw StorageFailure("staged file \(path) changed while it was uploaded") }
            }
            var whole = hasher
            var part = SHA256()
            buffer.withUnsafeReadableBytes { bytes in
                whole.update(bufferPointer: bytes)
                part.update(bufferPointer: bytes)
            }
            return Part(bytes: buffer, payloadHash: Hex.encode(part.finalize()), hasher: whole)
        }
    }

    static func contentType(_ key: String) -> String {
        switch (key as NSString).pathExtension {
        case "gpkg": "application/geopackage+sqlite3"
        case "json": "application/json"
        case "zip": "application/zip"
        default: "application/octet-stream"
        }
    }
}
