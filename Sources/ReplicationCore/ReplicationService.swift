import Foundation
import GeoJSON
import MapDepotCore

/// The replication API's operations: layers, change ingestion, replicas on demand, replica queries.
public struct ReplicationService: Sendable {
    public let store: any ReplicationStore
    public let producer: ReplicaProducer
    /// Where produced replicas' files are (the registry deletes them with their replica).
    let artifacts: any ArtifactStore
    private let clock: any WallClock

    public init(store: any ReplicationStore, producer: ReplicaProducer, artifacts: any ArtifactStore, clock: any WallClock) {
        self.artifacts = artifacts
        self.store = store
        self.producer = producer
        self.clock = clock
    }

    public func createLayer(_ draft: LayerDraft) async throws -> Layer {
        try draft.check()
        return try await store.createLayer(draft, now: clock.now())
    }

    /// Ordered by `layerId`.
    public func layers() async throws -> [Layer] {
        try await store.layers()
    }

    public func layer(id: Int) async throws -> Layer {
        guard let layer = try await store.layer(id: id) else { throw ServiceError.notFound("layer \(id) was not found") }
        return layer
    }

    /// Checks a change request against its layer and applies it atomically.
    public func applyChanges(_ request: ChangeRequest, layerId: Int) async throws -> ChangeResult {
        let changes = try ChangeSet(request, layer: try await layer(id: layerId))
        return try await store.apply(changes, layerId: layerId, now: clock.now())
    }

    /// A snapshot as of now, or the delta from the chain's previous replica to now (published even when empty).
    public func produce(layerId: Int, geometryType: GeometryType, replicaType: ReplicaType) async throws -> Replica {
        guard let replica = try await producer.produce(layerId: layerId, type: geometryType, replicaType: replicaType) else {
            throw ServiceError.invalid("nothing was produced")
        }
        return replica
    }

    public func replicas(_ query: ReplicaQuery) async throws -> [Replica] {
        try await replicaPage(query).replicas
    }

    /// Visible replicas of a chain; with a page, at most its limit and the cursor of the next page, when there is one.
    /// - Throws: ``ReplicaHistoryGone`` for an `after_sequence` below what retention kept (issue #14: the client needs a
    ///   new snapshot; a timestamp query, the MapColonies contract's, just lists what is kept).
    public func replicaPage(_ query: ReplicaQuery) async throws -> (replicas: [Replica], next: ReplicaCursor?) {
        if let after = query.afterSequence {
            let pruned = try await store.prunedThrough(layerId: query.layerId, type: query.geometryType, replicaType: query.replicaType)
            if after < pruned {
                throw ReplicaHistoryGone(
                    message: "the \(query.replicaType.rawValue)s after sequence \(after) of layer \(query.layerText) \(query.geometryType.rawValue) are no longer "
                        + "kept (pruned through \(pruned)); take latestSnapshot and continue after its deltaSequenceNumber",
                    latestSnapshot: try await store.latestReplica(layerId: query.layerId, type: query.geometryType, replicaType: .snapshot, origin: .produced)
                )
            }
        }
        var replicas = try await store.replicas(query)
        guard let page = query.page, replicas.count > page.limit else { return (replicas, nil) }
        replicas.removeLast(replicas.count - page.limit)
        return (replicas, replicas.last.map(ReplicaCursor.init))
    }

    /// A published replica's file, for download: hidden replicas (being produced) and unknown keys are not found.
    public func publishedFile(replicaId: UUID, key: String) async throws -> ReplicaFile {
        guard let replica = try await store.replica(id: replicaId), let file = replica.files.first(where: { $0.key == key }) else {
            throw ServiceError.notFound("no replica file at \(key)")
        }
        return file
    }

    /// The newest visible replica, or the contract's 404 text.
    public func latest(_ query: ReplicaQuery) async throws -> Replica {
        guard let replica = try await store.latestReplica(layerId: query.layerId, type: query.geometryType, replicaType: query.replicaType, origin: nil) else {
            throw ServiceError.notFound(
                "replica of type \(query.replicaType.rawValue) with geometry type of \(query.geometryType.rawValue) on layer \(query.layerText) was not found"
            )
        }
        return replica
    }
}

/// A sequence cursor older than what retention kept: answered 410 with the latest snapshot to start again from.
public struct ReplicaHistoryGone: Error, Sendable {
    public var message: String
    public var latestSnapshot: Replica?
}
