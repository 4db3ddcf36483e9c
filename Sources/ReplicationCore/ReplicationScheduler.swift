import Foundation
import Logging
import MapDepotCore

/// Produces replicas on a cadence (issue #3 part 4): per layer and geometry type, a delta when the layer
/// changed and the last delta is at least ``deltaInterval`` old, a snapshot when there is none yet or the
/// last is at least ``snapshotInterval`` old and the layer changed since.
public struct ReplicationScheduler: Sendable {
    private let store: any ReplicationStore
    private let producer: ReplicaProducer
    private let clock: any WallClock
    public let deltaInterval: TimeInterval
    public let snapshotInterval: TimeInterval
    private let checkInterval: Duration
    private let logger: Logger
    /// Run once a minute of this clock's time, between ticks.
    private let retention: ReplicaRetention?

    public init(
        store: any ReplicationStore, producer: ReplicaProducer, clock: any WallClock, deltaInterval: TimeInterval,
        snapshotInterval: TimeInterval = 86_400, checkInterval: Duration = .seconds(5), retention: ReplicaRetention? = nil, logger: Logger
    ) {
        self.retention = retention
        self.store = store
        self.producer = producer
        self.clock = clock
        self.deltaInterval = deltaInterval
        self.snapshotInterval = snapshotInterval
        self.checkInterval = checkInterval
        self.logger = logger
    }

    /// Cleans up after a killed producer, then ticks until cancelled.
    public func run() async throws {
        // Retried, not thrown: an error here would stop the server (issue #9).
        while true {
            do {
                let removed = try await producer.recover()
                if removed > 0 { logger.warning("removed hidden replicas left by a stopped producer", metadata: ["replication.count": "\(removed)"]) }
                break
            } catch {
                try Task.checkCancellation()
                logger.warning("could not clean up after a stopped producer; trying again", metadata: ["error": "\(error)"])
                try await clock.sleep(for: checkInterval)
            }
        }
        var pruned: Date?
        while !Task.isCancelled {
            await tick()
            if let retention, pruned.map({ clock.now().timeIntervalSince($0) >= 60 }) ?? true {
                pruned = clock.now()
                do {
                    let report = try await retention.prune()
                    if report.replicas + report.versions > 0 {
                        logger.info("retention pruned", metadata: ["replication.replicas": "\(report.replicas)", "replication.versions": "\(report.versions)"])
                    }
                } catch {
                    logger.error("retention failed; trying again in a minute", metadata: ["error": "\(error)"])
                }
            }
            try await clock.sleep(for: checkInterval)
        }
    }

    /// One round over every layer and geometry type; returns what it produced.
    @discardableResult
    public func tick() async -> [Replica] {
        var produced: [Replica] = []
        let now = clock.now()
        do {
            for layer in try await store.layers() {
                for type in layer.geometryTypes {
                    do {
                        if let replica = try await due(layer: layer, type: type, now: now) { produced.append(replica) }
                    } catch {
                        logger.error("replica production failed", metadata: ["layer.id": "\(layer.layerId)", "geometry": "\(type.rawValue)", "error": "\(error)"])
                    }
                }
            }
        } catch {
            logger.error("could not list layers", metadata: ["error": "\(error)"])
        }
        return produced
    }

    private func due(layer: Layer, type: GeometryType, now: Date) async throws -> Replica? {
        let snapshot = try await store.latestReplica(layerId: layer.layerId, type: type, replicaType: .snapshot, origin: .produced)
        guard let snapshot else {
            return try await producer.produce(layerId: layer.layerId, type: type, replicaType: .snapshot, waitForChain: false)
        }
        if now.timeIntervalSince(snapshot.timestamp) >= snapshotInterval && layer.lastSequence > snapshot.changeSequence {
            return try await producer.produce(layerId: layer.layerId, type: type, replicaType: .snapshot, waitForChain: false)
        }
        let delta = try await store.latestReplica(layerId: layer.layerId, type: type, replicaType: .delta, origin: .produced)
        let covered = max(delta?.changeSequence ?? 0, snapshot.changeSequence)
        let last = delta?.timestamp ?? snapshot.timestamp
        guard layer.lastSequence > covered, now.timeIntervalSince(last) >= deltaInterval else { return nil }
        return try await producer.produce(layerId: layer.layerId, type: type, replicaType: .delta, skipEmptyDelta: true, waitForChain: false)
    }
}
