/// Turns a stream of features and deleted ids into published zips (implemented with ZIPFoundation in
/// Storage). One writer per replica, used by one task.
public protocol ReplicaPackaging: Sendable {
    /// - Parameters:
    ///   - keyPrefix: artifact key folder of the replica's zips.
    ///   - alwaysWriteFeatureFile: snapshots hold at least one GeoJSON file, even for an empty layer.
    func makeWriter(keyPrefix: String, alwaysWriteFeatureFile: Bool) throws -> any ReplicaWriter
}

/// Collects a replica's content; ``finish()`` publishes the zips and describes them.
public protocol ReplicaWriter: AnyObject {
    /// A GeoJSON Feature object's text.
    func add(feature: String) throws
    func add(deletedId: String) throws
    /// Seals, fsyncs, checksums and publishes every zip.
    func finish() async throws -> [ReplicaFile]
    /// Removes whatever was staged (after a failure).
    func discard()
}
