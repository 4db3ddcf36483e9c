import Foundation
import ReplicationCore

/// Where a local copy of one (layer, geometry type) stands (issue #14): stored in the same transaction as the data it
/// describes, so that data and cursor never disagree, and advanced only after a replica was applied whole.
public struct MirrorCursor: Sendable, Hashable {
    public var layerId: Int
    public var geometryType: GeometryType
    /// The server's layer (``Layer/sourceId``): a replica of another source is refused. Nil until the first replica.
    public var sourceId: UUID?
    /// The change sequence the copy reflects: the next delta must start exactly here.
    public var changeSequence: Int
    /// The sequence number of the last delta applied (or that the snapshot sits on): the `after_sequence` of the next listing.
    public var deltaSequence: Int
    /// The snapshot the copy started from.
    public var snapshotSequence: Int?
    /// The server's layer hash after the last replica; nil when the server gave none.
    public var layerHash: String?
    /// The replica's own timestamp (the layer as of then), for the lag `status` reports.
    public var replicaTimestamp: Date?

    public init(
        layerId: Int, geometryType: GeometryType, sourceId: UUID?, changeSequence: Int, deltaSequence: Int, snapshotSequence: Int?,
        layerHash: String?, replicaTimestamp: Date?
    ) {
        self.layerId = layerId
        self.geometryType = geometryType
        self.sourceId = sourceId
        self.changeSequence = changeSequence
        self.deltaSequence = deltaSequence
        self.snapshotSequence = snapshotSequence
        self.layerHash = layerHash
        self.replicaTimestamp = replicaTimestamp
    }

    /// A copy with nothing in it yet: the layer as of its creation (change sequence 0, before any delta).
    public static func empty(layerId: Int, geometryType: GeometryType) -> MirrorCursor {
        MirrorCursor(
            layerId: layerId, geometryType: geometryType, sourceId: nil, changeSequence: 0, deltaSequence: 0, snapshotSequence: nil,
            layerHash: LayerHash().hex, replicaTimestamp: nil
        )
    }

    /// The cursor after applying `replica` (a snapshot resets it; a delta advances it).
    public func after(_ replica: RemoteReplica) -> MirrorCursor {
        var next = self
        next.sourceId = replica.sourceId ?? sourceId
        next.changeSequence = replica.changeSequence ?? changeSequence
        next.layerHash = replica.layerHash
        next.replicaTimestamp = replica.timestamp
        switch replica.replicaType {
        case .snapshot:
            next.snapshotSequence = replica.sequenceNumber
            next.deltaSequence = replica.linkedSequence ?? 0
        case .delta:
            next.deltaSequence = replica.sequenceNumber
        }
        return next
    }

    /// The rule every target applies before it commits a replica: the hash of what it would hold must be the server's
    /// (when the server gave one), else the replica is not applied.
    public func check(_ hash: LayerHash) throws(SyncError) {
        guard let expected = layerHash, expected != hash.hex else { return }
        throw .hashMismatch(
            "after replica \(deltaSequence) the local copy's layer hash would be \(hash.hex), the server's is \(expected): the replica was not applied"
        )
    }
}
