import Foundation
import GeoJSON
import JSONValues
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
        let layer = try await layer(id: layerId)
        // Checking and encoding every feature canonically is CPU work of tens of milliseconds for a large change set.
        let changes = try await Offload.run { try ChangeSet(request, layer: layer) }
        return try await apply(changes, layerId: layerId)
    }

    /// Applies a change set already checked against its layer (a streamed body, issue #15) atomically.
    public func apply(_ changes: ChangeSet, layerId: Int) async throws -> ChangeResult {
        try await store.apply(changes, layerId: layerId, now: clock.now())
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

    /// A published replica's file, for download: hidden replicas (being produced) and unknown keys are not found. A
    /// window delta's files are in a folder of its build id, as a replica's are in one of its id.
    public func publishedFile(replicaId: UUID, key: String) async throws -> ReplicaFile {
        var files = try await store.replica(id: replicaId)?.files
        if files == nil { files = try await store.windowDelta(buildId: replicaId)?.files }
        guard let file = files?.first(where: { $0.key == key }) else { throw ServiceError.notFound("no replica file at \(key)") }
        return file
    }

    /// The newest sequence number of every chain of a layer (`<geometry type>/<replica type>` → number, 0 for none): where
    /// an event stream starts, so that it tells of what is published from then on.
    public func chainHeads(of layer: Layer) async throws -> [String: Int] {
        var heads: [String: Int] = [:]
        for type in layer.geometryTypes {
            for replicaType in ReplicaType.allCases {
                let newest = try await store.latestReplica(layerId: layer.layerId, type: type, replicaType: replicaType, origin: nil)
                heads[Self.chain(type, replicaType)] = newest?.sequenceNumber ?? 0
            }
        }
        return heads
    }

    /// A chain's name in ``chainHeads(of:)`` and in event ids: `<geometry type>/<replica type>`.
    public static func chain(_ type: GeometryType, _ replicaType: ReplicaType) -> String { "\(type.rawValue)/\(replicaType.rawValue)" }

    /// Subscribes `subscriber` to a layer's publications (issue #14 item 5).
    public func subscribe(_ json: JSONValue, layerId: Int, subscriber: String) async throws -> LayerSubscription {
        let layer = try await layer(id: layerId)
        let subscription = try LayerSubscription(json: json, layerId: layerId, subscriber: subscriber, now: clock.now())
        if let other = subscription.geometryTypes.first(where: { !layer.geometryTypes.contains($0) }) {
            throw ServiceError.invalid("layer \(layerId) holds no \(other.rawValue) features (it holds \(layer.geometryTypes.map(\.rawValue).joined(separator: ", ")))")
        }
        try await store.createSubscription(subscription)
        return subscription
    }

    public func subscriptions(layerId: Int, subscriber: String) async throws -> [LayerSubscription] {
        _ = try await layer(id: layerId)
        return try await store.subscriptions(layerId: layerId, subscriber: subscriber)
    }

    public func unsubscribe(id: UUID, layerId: Int, subscriber: String) async throws {
        guard try await store.deleteSubscription(id: id, layerId: layerId, subscriber: subscriber) else {
            throw ServiceError.notFound("subscription \(id.uuidString.lowercased()) of layer \(layerId) was not found")
        }
    }

    /// What `POST /layers/{layerId}/deltas` answers: the delta, the times of its window's ends, and whether it was made
    /// before.
    public struct WindowAnswer: Sendable {
        public var delta: WindowDelta
        public var cached: Bool
        public var fromTimestamp: Date?
        public var timestamp: Date?
        public var sourceId: UUID
    }

    /// A delta over any kept window of a layer's changes, optionally of one area (issue #14 item 4), made once per
    /// (layer, window, area) and answered from the cache after.
    /// - Throws: ``ReplicaHistoryGone`` when the window starts before the history retention kept.
    public func windowDelta(layerId: Int, _ request: WindowRequest) async throws -> WindowAnswer {
        let layer = try await layer(id: layerId)
        let type = request.geometryType
        guard layer.geometryTypes.contains(type) else {
            throw ServiceError.invalid("layer \(layerId) holds no \(type.rawValue) features (it holds \(layer.geometryTypes.map(\.rawValue).joined(separator: ", ")))")
        }
        func sequence(_ bound: WindowRequest.Bound) async throws -> Int {
            switch bound {
            case .sequence(let value): value
            case .time(let date): try await store.changeSequence(layerId: layerId, at: date)
            }
        }
        let from = try await sequence(request.from)
        var to = layer.lastSequence
        if let bound = request.to { to = try await sequence(bound) }
        guard from <= to else { throw ServiceError.invalid("from (change \(from)) is after to (change \(to))") }
        guard to <= layer.lastSequence else {
            throw ServiceError.invalid("to (change \(to)) is after the layer's last change (\(layer.lastSequence))")
        }
        guard from >= layer.historyFrom else {
            throw ReplicaHistoryGone(
                message: "changes before \(layer.historyFrom) of layer \(layerId) are no longer kept; ask for a window from \(layer.historyFrom) "
                    + "or take latestSnapshot",
                latestSnapshot: try await store.latestReplica(layerId: layerId, type: type, replicaType: .snapshot, origin: .produced)
            )
        }
        func time(_ sequence: Int) async throws -> Date? {
            sequence == 0 ? layer.createdAt : try await store.changeTime(layerId: layerId, sequence: sequence)
        }
        let key = WindowDelta.key(layerId: layerId, type: type, from: from, to: to, bbox: request.bbox)
        var cached = true
        var delta: WindowDelta
        if let found = try await store.windowDelta(key: key) {
            delta = found
        } else {
            let built = try await producer.window(layer: layer, type: type, from: from, to: to, bbox: request.bbox)
            delta = try await store.insertWindowDelta(built)
            // Two identical requests at once: the first stored wins, the other's files go.
            if delta.buildId != built.buildId {
                try await artifacts.delete(prefix: built.keyPrefix)
            } else {
                cached = false
            }
        }
        return WindowAnswer(delta: delta, cached: cached, fromTimestamp: try await time(from), timestamp: try await time(to), sourceId: layer.sourceId)
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
