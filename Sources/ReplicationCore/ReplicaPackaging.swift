/// Turns a stream of features and deleted ids into published zips (implemented with ZIPFoundation in
/// Storage). A replica may have several writers (a snapshot's id ranges), each used by one task.
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
    /// Seals, fsyncs, checksums and publishes every zip. After a failure the producer removes everything
    /// under the replica's key prefix instead.
    func finish() async throws -> [ReplicaFile]
}
