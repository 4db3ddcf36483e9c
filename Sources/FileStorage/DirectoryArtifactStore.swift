import Crypto
import MapDepotCore
import Foundation
import NIOPosix

/// Artifacts in a local (or shared, mounted) directory: `{root}/{key}`, staged in `{root}/.staging/{key}`.
///
/// Publishing is write → fsync → checksum → rename → fsync of the directory, so after a crash a key holds
/// either the whole file or nothing (SPEC "Nothing is lost").
public struct DirectoryArtifactStore: ArtifactStore {
    public let root: String
    private let threadPool: NIOThreadPool

    public init(root: String, threadPool: NIOThreadPool = .singleton) throws {
        self.root = root
        self.threadPool = threadPool
        try FileManager.default.createDirectory(atPath: root + "/.staging", withIntermediateDirectories: true)
    }

    public func stagingPath(for key: String) throws -> String {
        guard ArtifactKey.isSafe(key) else { throw StorageFailure("artifact key \(key) is not a safe relative path") }
        let path = "\(root)/.staging/\(key)"
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true
        )
        return path
    }

    public func publish(stagingPath: String, key: String, sha256: String?) async throws -> (size: Int64, sha256: String) {
        guard ArtifactKey.isSafe(key) else { throw StorageFailure("artifact key \(key) is not a safe relative path") }
        let destination = "\(root)/\(key)"
        return try await threadPool.runIfActive {
            let (size, digest) = try sha256.map { (try Self.sync(path: stagingPath), $0) } ?? Self.syncAndHash(path: stagingPath)
            let directory = (destination as NSString).deletingLastPathComponent
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            guard rename(stagingPath, destination) == 0 else {
                throw StorageFailure.posix("could not publish \(key)")
            }
            Self.syncDirectory(directory)
            return (size, digest)
        }
    }

    public func download(key: String, fileName: String, range: ClosedRange<Int>?) async throws -> ArtifactDownload? {
        localPath(for: key).map { .file(path: $0) }
    }

    /// The published file's path, or nil when there is none.
    public func localPath(for key: String) -> String? {
        guard ArtifactKey.isSafe(key) else { return nil }
        let path = "\(root)/\(key)"
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    public func delete(prefix: String) async throws {
        guard ArtifactKey.isSafe(prefix) else { return }
        let root = self.root
        try await threadPool.runIfActive {
            for path in ["\(root)/\(prefix)", "\(root)/.staging/\(prefix)"] where FileManager.default.fileExists(atPath: path) {
                try FileManager.default.removeItem(atPath: path)
            }
        }
    }

    /// The directory is there and writable (a shared mount can go away).
    public func check() async throws {
        guard access(root, W_OK) == 0 else { throw ServiceError.invalid("\(root) is not writable: \(String(cString: strerror(errno)))") }
    }

    public func freeBytes() throws -> Int64 {
        let attributes = try FileManager.default.attributesOfFileSystem(forPath: root)
        return (attributes[.systemFreeSize] as? NSNumber)?.int64Value ?? 0
    }

    public func capacityBytes() throws -> Int64 {
        let attributes = try FileManager.default.attributesOfFileSystem(forPath: root)
        return (attributes[.systemSize] as? NSNumber)?.int64Value ?? 0
    }

    /// fsyncs the file and returns its size.
    static func sync(path: String) throws -> Int64 {
        guard let handle = FileHandle(forUpdatingAtPath: path) else {
            throw StorageFailure("staged file \(path) is missing")
        }
        defer { try? handle.close() }
        try handle.synchronize()
        return Int64(try handle.seekToEnd())
    }

    /// fsyncs the file and returns its size and hex SHA-256, reading it in 1 MiB chunks.
    static func syncAndHash(path: String) throws -> (Int64, String) {
        guard let handle = FileHandle(forUpdatingAtPath: path) else {
            throw StorageFailure("staged file \(path) is missing")
        }
        defer { try? handle.close() }
        try handle.synchronize()
        var hasher = SHA256()
        var size: Int64 = 0
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
            size += Int64(chunk.count)
        }
        return (size, Hex.encode(hasher.finalize()))
    }

    static func syncDirectory(_ path: String) {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }
}
