import Foundation
import GeoJSON
import MapDepotCore

/// The replication API's operations: layers, change ingestion, replicas on demand, replica queries.
public struct ReplicationService: Sendable {
    public let store: any ReplicationStore
    public let producer: ReplicaProducer
    private let clock: any WallClock

    public init(store: any ReplicationStore, producer: ReplicaProducer, clock: any WallClock) {
        self.store = store
        self.producer = producer
        self.clock = clock
    }

    public func createLayer(_ draft: LayerDraft) async throws -> Layer {
        try await store.createLayer(draft, now: clock.now())
    }

    /// Ordered by `layerId`.
    public func layers() async throws -> [Layer] {
        try await store.layers()
    }

    public func layer(id: Int) async throws -> Layer {
        guard let layer = try await store.layer(id: id) else { throw ServiceError.notFound("layer \(id) was not found") }
        return layer
    }

    /// Checks and applies a change set atomically.
    public func applyChanges(_ body: JSONValue, layerId: Int) async throws -> ChangeResult {
        let layer = try await layer(id: layerId)
        let changes = try ChangeSet(json: body, layer: layer)
        return try await store.apply(changes, layerId: layerId, now: clock.now())
    }

    /// `POST /layers/{layerId}/replicas` `{replicaType, geometryType}`: a snapshot as of now, or the delta
    /// from the chain's previous replica to now (published even when empty).
    public func produce(_ body: JSONValue, layerId: Int) async throws -> Replica {
        let reader = try JSONObjectReader(body, path: "", allowed: ["replicaType", "geometryType"])
        guard let replicaType = try reader.oneOf("replicaType", ReplicaType.self) else { throw ServiceError.invalid("replicaType is required") }
        guard let geometryType = try reader.oneOf("geometryType", GeometryType.self) else { throw ServiceError.invalid("geometryType is required") }
        guard let replica = try await producer.produce(layerId: layerId, type: geometryType, replicaType: replicaType) else {
            throw ServiceError.invalid("nothing was produced")
        }
        return replica
    }

    public func replicas(_ query: ReplicaQuery) async throws -> [Replica] {
        try await store.replicas(query)
    }

    /// The newest visible replica, or the contract's 404 text.
    public func latest(_ query: ReplicaQuery) async throws -> Replica {
        guard let replica = try await store.latestReplica(layerId: query.layerId, type: query.geometryType, replicaType: query.replicaType, includingHidden: false) else {
            throw ServiceError.notFound(
                "replica of type \(query.replicaType.rawValue) with geometry type of \(query.geometryType.rawValue) on layer \(query.layerId) was not found"
            )
        }
        return replica
    }
}
