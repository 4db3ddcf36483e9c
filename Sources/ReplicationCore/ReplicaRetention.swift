import Foundation
import MapDepotCore

/// Retention (issue #14 item 2): replicas and history older than a window are pruned, so state stops growing forever.
///
/// Per chain (layer, geometry type), produced replicas older than the window go, but never the newest snapshot, the
/// deltas after it, or the newest replica of each type (numbering never goes back). A layer without a snapshot keeps
/// everything: a client can only start from the empty layer. History goes back to the oldest change any kept replica
/// starts from, over every geometry type of the layer; states as of that change and later stay exact, so every kept
/// delta and every window inside it can be made again. A cursor older than what is kept answers 410 with the latest
/// snapshot (``ReplicationService/replicaPage(_:)``). Registered replicas are the registry's, never pruned. Window deltas
/// (``WindowDelta``) older than the window go too.
public struct ReplicaRetention: Sendable {
    let store: any ReplicationStore
    let artifacts: any ArtifactStore
    let clock: any WallClock
    /// Seconds; 0 keeps everything.
    public let window: TimeInterval

    public init(store: any ReplicationStore, artifacts: any ArtifactStore, clock: any WallClock, window: TimeInterval) {
        self.store = store
        self.artifacts = artifacts
        self.clock = clock
        self.window = window
    }

    public struct Report: Sendable, Hashable {
        public var replicas = 0
        public var versions = 0
    }

    /// The time before which a chain's replicas go: the window's start, but never after its newest snapshot (the deltas
    /// after it are what a client that takes it needs). Nil without a snapshot.
    public static func cutoff(now: Date, window: TimeInterval, latestSnapshot: Replica?) -> Date? {
        guard window > 0, let latestSnapshot else { return nil }
        return min(now.addingTimeInterval(-window), latestSnapshot.timestamp)
    }

    /// One pass over every layer.
    @discardableResult
    public func prune() async throws -> Report {
        var report = Report()
        guard window > 0 else { return report }
        let now = clock.now()
        for window in try await store.pruneWindowDeltas(before: now.addingTimeInterval(-self.window)) {
            try await artifacts.delete(prefix: window.keyPrefix)
            report.replicas += 1
        }
        for layer in try await store.layers() {
            var horizon: Int? = layer.lastSequence
            for type in layer.geometryTypes {
                let snapshot = try await store.latestReplica(layerId: layer.layerId, type: type, replicaType: .snapshot, origin: .produced)
                guard let snapshot, let cutoff = Self.cutoff(now: now, window: window, latestSnapshot: snapshot) else {
                    horizon = nil
                    continue
                }
                let removed = try await store.pruneReplicas(layerId: layer.layerId, type: type, before: cutoff)
                for replica in removed {
                    try await artifacts.delete(prefix: ReplicaProducer.keyPrefix(replica))
                }
                report.replicas += removed.count
                // The oldest change a kept produced delta starts from, or the snapshot's own.
                var oldest = ReplicaQuery(layerId: layer.layerId, geometryType: type, replicaType: .delta, ascending: true)
                oldest.afterSequence = 0
                oldest.page = ReplicaPage(limit: 100, after: nil)
                let kept = try await store.replicas(oldest).first { $0.origin == .produced }
                let needed = min(kept?.fromChangeSequence ?? snapshot.changeSequence, snapshot.changeSequence)
                horizon = horizon.map { min($0, needed) }
            }
            if let horizon, horizon > layer.historyFrom {
                report.versions += try await store.pruneHistory(layerId: layer.layerId, through: horizon)
            }
        }
        return report
    }
}
