import Foundation
import ReplicationCore

/// A local copy of one (layer, geometry type): a features GeoPackage or a directory of GeoJSON (issue #14). Each call is
/// one transaction: data and cursor change together or not at all.
public protocol MirrorTarget: Sendable {
    /// The stored cursor; nil for a copy that has never been synced.
    func cursor() async throws -> MirrorCursor?
    /// Replaces every feature with a snapshot's and stores `cursor`. Before it commits, the hash of what it stored must
    /// equal `cursor.layerHash` (when given), or it throws ``SyncError/hashMismatch(_:)`` and the copy stays as it was.
    func replace(with content: ReplicaContent, cursor: MirrorCursor) async throws
    /// Applies a delta's upserts and deletions and stores `cursor`, with the same hash check: the hash before (from the
    /// stored cursor) with every replaced or deleted feature's stored text and every new text toggled.
    func apply(_ content: ReplicaContent, cursor: MirrorCursor) async throws
    /// Every stored feature's canonical text by id, read back from what the copy holds (`status --verify` hashes it; tests
    /// compare it with the server's snapshot feature for feature).
    func storedFeatures() async throws -> [String: String]
    /// How many features the copy holds.
    func count() async throws -> Int
}

extension MirrorTarget {
    /// The layer hash recomputed from every stored feature.
    public func storedHash() async throws -> LayerHash {
        var hash = LayerHash()
        for text in try await storedFeatures().values { hash.toggle(text) }
        return hash
    }
}

/// The server side of a sync: listings and downloads.
public protocol ReplicaServer: Sendable {
    /// The layer's ``Layer/sourceId`` on this server (`GET /layers`), nil when it has no such layer.
    func sourceId() async throws -> UUID?
    /// The newest replica of a type, or nil when the server has none.
    func latest(_ type: ReplicaType) async throws -> RemoteReplica?
    /// Deltas numbered after `sequence`, in sequence order, at most `limit`.
    /// - Throws: ``SyncError/cursorTooOld(_:)`` when the server no longer keeps what follows `sequence` (its 410).
    func deltas(after sequence: Int, limit: Int) async throws -> [RemoteReplica]
    /// Downloads a file to `path`, appending to what is there already (a `Range` request from its size); `progress`
    /// gets the file's bytes on disk as they grow.
    func download(_ file: RemoteReplica.File, to path: String, progress: @escaping @Sendable (Int64) -> Void) async throws
}

/// A replica's files as the engine hands them to a ``ReplicaContentReader``.
public protocol ReplicaContentReader: Sendable {
    /// Reads a verified zip's entries into `content`.
    func read(zipAt path: String, into content: inout ReplicaContent) throws
}
