import Foundation
import GeoJSON
import MapDepotCore

/// One zip of a replica.
public struct ReplicaFile: Sendable, Hashable {
    /// The artifact store key (`replicas/<layer>/<type>/<replica>/<file>.zip`).
    public var key: String
    public var size: Int64
    public var sha256: String
    public var features: Int
    public var deletions: Int

    public init(key: String, size: Int64, sha256: String, features: Int, deletions: Int) {
        self.key = key
        self.size = size
        self.sha256 = sha256
        self.features = features
        self.deletions = deletions
    }
}

/// Who made a replica.
public enum ReplicaOrigin: String, Sendable, Hashable, CaseIterable {
    /// MapDepot's producer, from the layer's change log: its files are in MapDepot's artifact store.
    case produced
    /// A producer outside MapDepot, through the registry (`POST /replica`, issue #12): its files are objects in that
    /// producer's bucket, and it covers no change of MapDepot's log (`changeSequence` 0).
    case registered
}

/// A snapshot or delta of one (layer, geometry type).
public struct Replica: Sendable, Hashable {
    public var replicaId: UUID
    public var layerId: Int
    public var geometryType: GeometryType
    public var replicaType: ReplicaType
    /// 1, 2, 3… within the chain (layer, geometry type, replica type).
    public var sequenceNumber: Int
    /// The state the replica describes is the layer as of this time (T2).
    public var timestamp: Date
    /// Deltas: T1, the previous delta's timestamp (or the layer's creation).
    public var fromTimestamp: Date?
    /// The layer change sequence the replica reflects (T2), and for deltas the one it starts after (T1).
    public var changeSequence: Int
    public var fromChangeSequence: Int?
    public var files: [ReplicaFile]
    public var origin: ReplicaOrigin
    /// replica-server's write-only `bucketName`: where a registered replica's files are (`<bucket>/<layer>/<type>/<fileId>`).
    public var bucketName: String?
    /// Hidden replicas are in no listing; registered ones start hidden (replica-server's two-phase publish).
    public var isHidden: Bool
    /// A registered replica's files (`POST /replica/{id}/file`), in the order they were added.
    public var registeredFiles: [UUID]
    /// Its layer's ``Layer/sourceId``, read with it (nil for a registered replica of a layer MapDepot does not hold).
    public var sourceId: UUID?
    /// Produced replicas: the ``LayerHash`` of the layer's state (this geometry type) after it.
    public var layerHash: String?
    /// Produced replicas: where this replica links to the other chain of its (layer, geometry type) (issue #14 item 1).
    /// A delta: the sequence number of the snapshot it chains from (the newest when it was made; nil before any). A
    /// snapshot: the sequence number of the delta it sits on (the last delta at or before its change sequence; 0 before
    /// any), which is where a client that applied the snapshot continues with `after_sequence`.
    public var linkedSequence: Int?

    public init(
        replicaId: UUID, layerId: Int, geometryType: GeometryType, replicaType: ReplicaType, sequenceNumber: Int,
        timestamp: Date, fromTimestamp: Date?, changeSequence: Int, fromChangeSequence: Int?, files: [ReplicaFile],
        origin: ReplicaOrigin = .produced, bucketName: String? = nil, isHidden: Bool = false, registeredFiles: [UUID] = [], sourceId: UUID? = nil
    ) {
        self.sourceId = sourceId
        self.origin = origin
        self.bucketName = bucketName
        self.isHidden = isHidden
        self.registeredFiles = registeredFiles
        self.replicaId = replicaId
        self.layerId = layerId
        self.geometryType = geometryType
        self.replicaType = replicaType
        self.sequenceNumber = sequenceNumber
        self.timestamp = timestamp
        self.fromTimestamp = fromTimestamp
        self.changeSequence = changeSequence
        self.fromChangeSequence = fromChangeSequence
        self.files = files
    }
}

/// The filters of `GET /replica` (replica-server `getReplicas`): `exclusive_from` strict, `to` inclusive.
public struct ReplicaQuery: Sendable, Hashable {
    public var layerId: Int
    public var geometryType: GeometryType
    public var replicaType: ReplicaType
    public var exclusiveFrom: Date?
    public var to: Date?
    public var ascending: Bool
    /// The layer as the client wrote it, for messages (`1.5` is no layer's id: "layer 1.5 …", not "layer -1").
    public var layerText: String
    /// MapDepot's sequence cursor (issue #14): replicas numbered after this one, in sequence order.
    public var afterSequence: Int?
    /// Paging (issue #14): nil lists everything, as replica-server does.
    public var page: ReplicaPage?

    public init(
        layerId: Int, geometryType: GeometryType, replicaType: ReplicaType, exclusiveFrom: Date? = nil, to: Date? = nil, ascending: Bool = false,
        layerText: String? = nil
    ) {
        self.layerText = layerText ?? "\(layerId)"
        self.layerId = layerId
        self.geometryType = geometryType
        self.replicaType = replicaType
        self.exclusiveFrom = exclusiveFrom
        self.to = to
        self.ascending = ascending
    }
}
