import Foundation

/// Where published files live. Files are built in a staging path of the store, then published: fsynced,
/// checksummed and moved into place atomically, so a file is either whole at its key or absent.
public protocol ArtifactStore: Sendable {
    /// A local path to build a file in before it is published; its parent directory exists.
    func stagingPath(for key: String) throws -> String
    /// Publishes a staged file at `key` and returns its size and SHA-256.
    func publish(stagingPath: String, key: String) async throws -> (size: Int64, sha256: String)
    /// A local path to read a published file from, or nil when it is not there.
    func localPath(for key: String) -> String?
    /// Removes everything under a key prefix (a task's folder), staged or published.
    func delete(prefix: String) async throws
    /// Bytes free where artifacts are written.
    func freeBytes() throws -> Int64
}
