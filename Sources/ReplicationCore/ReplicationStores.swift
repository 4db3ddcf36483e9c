import Foundation
import MapDepotCore

/// Layers, features with their history, and replicas.
///
/// History is kept as versions keyed (layer, feature, sequence); every accepted change set takes the next
/// sequence of its layer, gap-free. Reads are "as of" a sequence, in pages ordered by feature id, so a
/// snapshot or delta is consistent however long it takes and whatever is written meanwhile.
public protocol ReplicationStore: Sendable {
    /// - Throws: ``ServiceError`` `.conflict` when the id or name is taken.
    func createLayer(_ draft: LayerDraft, now: Date) async throws -> Layer
    func layers() async throws -> [Layer]
    func layer(id: Int) async throws -> Layer?

    /// Applies a change set atomically and returns its result; the same `changeId` twice returns the first
    /// result without applying anything.
    /// - Throws: ``ServiceError`` `.invalid` for a delete of an id that is not alive; nothing is applied.
    func apply(_ changes: ChangeSet, layerId: Int, now: Date) async throws -> ChangeResult

    /// Alive features of `type` as of `sequence`, with ids greater than `after` (and at most `before`, when
    /// given), in id order.
    func snapshotPage(layerId: Int, type: GeometryType, asOf sequence: Int, after: String, before: String?, limit: Int) async throws -> [FeatureState]
    /// The same page as ``snapshotPage(layerId:type:asOf:after:before:limit:)``, as the snapshot's files hold it.
    func snapshotTexts(layerId: Int, type: GeometryType, asOf sequence: Int, after: String, before: String?, limit: Int) async throws -> FeatureTexts
    /// Feature ids that cut the layer's ids into `parts` ranges of about equal numbers of `type` versions (none for small
    /// layers): range i is (split[i−1], split[i]], the last (split[n−1], ∞). Weighed by the type, so that the polygons of
    /// a layer that is mostly points still go to every task.
    func splitPoints(layerId: Int, type: GeometryType, parts: Int) async throws -> [String]
    /// Features with a version in (`from`, `to`], ids greater than `after`, in id order, with their state
    /// at `from` and at `to` (nil when not alive or not of `type`).
    func deltaPage(
        layerId: Int, type: GeometryType, from: Int, to: Int, after: String, limit: Int
    ) async throws -> [(id: String, before: FeatureState?, after: FeatureState?)]

    /// Takes the production lease of a chain (layer, geometry type) for `owner` until `until`, if nobody else
    /// holds it unexpired: one producer per chain across every node.
    func acquireChain(layerId: Int, type: GeometryType, owner: String, until: Date, now: Date) async throws -> Bool
    func releaseChain(layerId: Int, type: GeometryType, owner: String) async throws

    /// Stores a replica the producer is making, hidden and not yet numbered. It is invisible, and out of the registry's
    /// reach, until ``publishReplica(_:notice:)``.
    func insertHiddenReplica(_ replica: Replica) async throws
    /// Makes a replica visible with its files and numbers it next in its chain, atomically; returns it numbered.
    ///
    /// Every replica is numbered when it first becomes visible (here, or by the registry), after every replica of its
    /// chain, whoever made it: publication order is sequence order, so a client that follows sequence numbers never
    /// skips a replica published late (issue #14).
    ///
    /// With a notice, the same transaction queues a webhook delivery of the numbered replica to every subscription of
    /// its layer and geometry type, in the export webhooks' outbox (issue #14: the publication and its notifications
    /// commit together).
    func publishReplica(_ replica: Replica, notice: ReplicaNotice?) async throws -> Replica
    /// Removes one replica row, whatever its state.
    func deleteReplica(id: UUID) async throws
    /// Removes the replicas a killed producer left being made — those of chains nobody holds a live lease on — and
    /// returns them, so their files can go too.
    func removeHiddenReplicas(now: Date) async throws -> [Replica]
    /// Visible replicas matching the query, in its order: time (ties by sequence, then id), or sequence when it follows
    /// `afterSequence`. With a page, those after its cursor, one more than its limit (so the caller knows a next page exists).
    func replicas(_ query: ReplicaQuery) async throws -> [Replica]
    /// The newest visible replica of a chain; `origin` narrows it to one maker's (the producer chains from its own).
    func latestReplica(layerId: Int, type: GeometryType, replicaType: ReplicaType, origin: ReplicaOrigin?) async throws -> Replica?
    /// A visible replica.
    func replica(id: UUID) async throws -> Replica?

    // Subscriptions (issue #14 item 5).

    func createSubscription(_ subscription: LayerSubscription) async throws
    /// A layer's subscriptions made by `subscriber`, oldest first.
    func subscriptions(layerId: Int, subscriber: String) async throws -> [LayerSubscription]
    /// False when there is no such subscription of that subscriber.
    func deleteSubscription(id: UUID, layerId: Int, subscriber: String) async throws -> Bool

    // Windows (issue #14 item 4).

    /// The layer's change sequence as of `time`: the last change accepted at or before it (0 before any).
    func changeSequence(layerId: Int, at time: Date) async throws -> Int
    /// When a change was accepted; nil for 0 or an unknown sequence.
    func changeTime(layerId: Int, sequence: Int) async throws -> Date?
    func windowDelta(key: String) async throws -> WindowDelta?
    func windowDelta(buildId: UUID) async throws -> WindowDelta?
    /// Stores a built window delta, unless one of its key is stored already; returns the stored one (this or the earlier).
    func insertWindowDelta(_ delta: WindowDelta) async throws -> WindowDelta
    /// Removes the window deltas made before `time` and returns them, so their files can go too.
    func pruneWindowDeltas(before time: Date) async throws -> [WindowDelta]

    // Retention (issue #14 item 2).

    /// Removes the chain's produced, visible replicas older than `before`, except the newest of each replica type (so
    /// numbering never goes back), records the highest number removed per replica type, and returns them.
    func pruneReplicas(layerId: Int, type: GeometryType, before: Date) async throws -> [Replica]
    /// The highest sequence number retention removed from a chain (0 when none): a cursor below it is too old.
    func prunedThrough(layerId: Int, type: GeometryType, replicaType: ReplicaType) async throws -> Int
    /// Removes feature versions no state as of `sequence` or later needs (versions superseded at or before it, and
    /// deletions at or before it), and records `sequence` as the layer's ``Layer/historyFrom``; returns how many went.
    func pruneHistory(layerId: Int, through sequence: Int) async throws -> Int

    // The registry (replica-server's internal operations, issue #12). It reaches every replica except those being
    // produced, hidden ones included.

    /// Stores a registered replica (hidden, not yet numbered); false when its id is taken.
    func registerReplica(_ replica: Replica) async throws -> Bool
    /// The selected replicas, oldest first.
    func registryReplicas(_ selection: ReplicaSelection) async throws -> [Replica]
    /// Writes what the registry may change (timestamp, layer, geometry type, replica type, bucket, hidden) of each; a
    /// visible replica without a number (0) is numbered next in its chain, as ``publishReplica(_:notice:)`` numbers.
    func updateRegistryFields(_ replicas: [Replica]) async throws
    /// Removes the selected replicas and returns them, files listed.
    func deleteReplicas(_ selection: ReplicaSelection) async throws -> [Replica]
    /// Adds a file to a replica; file ids are unique across all replicas.
    func addRegisteredFile(_ fileId: UUID, replicaId: UUID) async throws -> FileRegistrationOutcome
}

extension ReplicationStore {
    /// From ``snapshotPage(layerId:type:asOf:after:before:limit:)``'s states (PostgreSQL's rows arrive decoded as strings
    /// anyway); SQLite's store builds the texts from its column bytes instead.
    ///
    /// The texts are built off the cooperative pool (DEVELOPERS, "Never block a cooperative thread"): a page of 5,000
    /// features is milliseconds of serializing, and a snapshot runs several ranges at once.
    public func snapshotTexts(layerId: Int, type: GeometryType, asOf sequence: Int, after: String, before: String?, limit: Int) async throws -> FeatureTexts {
        let states = try await snapshotPage(layerId: layerId, type: type, asOf: sequence, after: after, before: before, limit: limit)
        return try await Offload.run {
            var texts = FeatureTexts(reservingFeatures: states.count)
            for state in states { texts.append(state) }
            return texts
        }
    }
}

public enum FileRegistrationOutcome: Sendable, Hashable {
    case added
    case noSuchReplica
    case fileIdTaken
}
