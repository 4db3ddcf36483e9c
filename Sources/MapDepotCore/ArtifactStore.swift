import Foundation
import NIOCore

/// Where published files live. Files are built in a staging path of the store, then published: fsynced,
/// checksummed and moved into place atomically, so a file is either whole at its key or absent.
///
/// Two implementations: a directory (local, or a mount shared by a cluster's nodes) and an S3-compatible object
/// store (staged on the node's disk, uploaded on publish).
///
/// ``HealthCheck/check()`` says whether files can be published now (readiness).
public protocol ArtifactStore: HealthCheck {
    /// A local path to build a file in before it is published; its parent directory exists.
    func stagingPath(for key: String) throws -> String
    /// Publishes a staged file at `key` and returns its size and SHA-256. The staged file is gone afterwards.
    /// - Parameter sha256: the file's SHA-256 when the caller hashed it as it wrote it (a store that reads the file
    ///   anyway may hash it again); nil to have the store hash it.
    func publish(stagingPath: String, key: String, sha256: String?) async throws -> (size: Int64, sha256: String)
    /// How a client gets a published file (the bytes of `range` when one is given and the store serves bytes
    /// itself), or nil when it is not there. `fileName` is the name the client should save it under.
    func download(key: String, fileName: String, range: ClosedRange<Int>?) async throws -> ArtifactDownload?
    /// Removes everything under a key prefix (a task's folder), staged or published.
    func delete(prefix: String) async throws
    /// Bytes free where artifacts are built (507 when an export would not fit).
    func freeBytes() throws -> Int64
    /// The size of the volume artifacts are built on (exporter-trigger's `GET /storage` `size`).
    func capacityBytes() throws -> Int64
}

extension ArtifactStore {
    /// Publishes a staged file and hashes it.
    public func publish(stagingPath: String, key: String) async throws -> (size: Int64, sha256: String) {
        try await publish(stagingPath: stagingPath, key: key, sha256: nil)
    }
}

/// How a published artifact reaches a client (the HTTP layer turns each into a response).
public enum ArtifactDownload: Sendable {
    /// A file on this node's disk.
    case file(path: String)
    /// A URL that serves the file itself (a pre-signed object-store URL); the client follows it with its own `Range`.
    case redirect(url: String)
    /// The bytes asked for, streamed through this node.
    case stream(any AsyncSequence<ByteBuffer, any Error> & Sendable)
}

/// Artifact keys: relative paths of plain names (`exports/12/name.gpkg`).
public enum ArtifactKey {
    /// Anything that could leave a store's root (absolute, `..`, `.`, hidden or empty segments, NUL) is refused.
    public static func isSafe(_ key: String) -> Bool {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        return !key.isEmpty && !key.hasPrefix("/")
            && parts.allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." && !$0.hasPrefix(".") && !$0.contains("\0") }
    }
}

extension ArtifactStore {
    /// The published file's path on this node's disk when the store keeps it there (the directory store), else nil:
    /// for tools and tests that open artifacts as files (benchmarks, GDAL checks).
    public func localFile(for key: String) async throws -> String? {
        guard case .file(let path) = try await download(key: key, fileName: (key as NSString).lastPathComponent, range: nil) else { return nil }
        return path
    }
}

/// Turns artifact keys into the URLs clients download from (export artifacts, replica zips).
public protocol ArtifactLinks: Sendable {
    /// A URL for a published artifact; `expires` makes it a signed link that downloads without a token.
    func url(for key: String, expires: Date?) -> String
}
