/// Turns a stream of features and deleted ids into published zips (implemented with ZIPFoundation in
/// Storage). A replica may have several writers (a snapshot's id ranges), each used by one task.
public protocol ReplicaPackaging: Sendable {
    /// - Parameters:
    ///   - keyPrefix: artifact key folder of the replica's zips.
    ///   - alwaysWriteFeatureFile: snapshots hold at least one GeoJSON file, even for an empty layer.
    func makeWriter(keyPrefix: String, alwaysWriteFeatureFile: Bool) throws -> any ReplicaWriter
}

/// Collects a replica's content; ``finish()`` publishes the zips and describes them.
///
/// Calls come one at a time, each ended before the next, but not always from the same thread: the producer hands
/// each page's serializing and deflating to a thread off Swift's cooperative pool (``Offload``), since it is long CPU
/// work (issue #9, DEVELOPERS "Never block a cooperative thread").
public protocol ReplicaWriter: AnyObject, Sendable {
    /// A GeoJSON Feature object's text.
    func add(feature: String) throws
    /// A snapshot page's features, in order (the same files as adding each text on its own).
    func add(features: FeatureTexts) throws
    func add(deletedId: String) throws
    /// Seals, fsyncs, checksums and publishes every zip. After a failure the producer removes everything
    /// under the replica's key prefix instead.
    func finish() async throws -> [ReplicaFile]
}

extension ReplicaWriter {
    /// Each text on its own: for writers that look at every feature (the tests' failing and slow writers).
    public func add(features: FeatureTexts) throws {
        var texts: [String] = []
        features.forEachText { texts.append(String(decoding: $0, as: UTF8.self)) }
        for text in texts { try add(feature: text) }
    }
}
