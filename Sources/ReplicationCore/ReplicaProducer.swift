import Foundation
import JSONValues
import Geometry
import GeoJSON
import Logging
import MapDepotCore

/// Produces snapshots and deltas and publishes them atomically.
///
/// Publication is two-phase, as replica-server's registry is (replication-anchors §2.2): a hidden replica row,
/// then its zips published (fsync, SHA-256, rename), then the row made visible with its files in one
/// transaction. A producer killed in between leaves a hidden row that ``recover()`` removes with its files;
/// the next run produces the replica again.
///
/// Chains: a delta starts where the previous delta of its (layer, geometry type) ended, or at the latest
/// snapshot when there is no delta yet, or at the empty layer. A snapshot first closes the delta chain at its
/// own change sequence (when deltas exist and lag), so every snapshot sits on a delta boundary and a client
/// can apply a snapshot, then the deltas after its timestamp.
public struct ReplicaProducer: Sendable {
    private let store: any ReplicationStore
    private let packaging: any ReplicaPackaging
    private let artifacts: any ArtifactStore
    private let clock: any WallClock
    private let pageSize: Int
    /// Snapshots of large layers are cut into this many id ranges, each packaged by its own task. Two per core by default:
    /// a range's reading (on the store's threads) and its hashing and deflating (offloaded) take turns, so one range per
    /// core left a quarter of both cores idle (issue #15's profile); two per core took a million-point snapshot from 83 %
    /// to 96 % of `zip -6` alone, median of five pairs.
    private let parallelism: Int
    private let locks = ChainLocks()
    /// This producer's name in chain leases.
    private let node = UUID().uuidString.lowercased()
    /// How long a chain's production lease lasts (a dead node's lease blocks its chain this long).
    private let chainLease: TimeInterval
    /// The only producer using this state (the embedded backend): stored leases can only be a dead
    /// predecessor's, so they are ignored, and every hidden replica is a leftover.
    private let exclusive: Bool
    /// How long a subscription's delivery of a publication is tried (the export webhooks' budget).
    private let webhookRetryBudget: TimeInterval

    public init(
        store: any ReplicationStore, packaging: any ReplicaPackaging, artifacts: any ArtifactStore,
        clock: any WallClock, pageSize: Int = 5_000, parallelism: Int = 2 * ProcessInfo.processInfo.activeProcessorCount,
        chainLease: TimeInterval, exclusive: Bool = true, webhookRetryBudget: TimeInterval = 86_400
    ) {
        self.webhookRetryBudget = webhookRetryBudget
        self.chainLease = chainLease
        self.exclusive = exclusive
        self.store = store
        self.packaging = packaging
        self.artifacts = artifacts
        self.clock = clock
        self.pageSize = pageSize
        self.parallelism = max(1, parallelism)
    }

    /// Removes replicas a killed producer left hidden, and their files.
    @discardableResult
    public func recover() async throws -> Int {
        let leftovers = try await store.removeHiddenReplicas(now: exclusive ? .distantFuture : clock.now())
        for replica in leftovers {
            try await artifacts.delete(prefix: Self.keyPrefix(replica))
        }
        return leftovers.count
    }

    /// Produces a replica of the layer as of now.
    /// - Parameter skipEmptyDelta: the scheduler's mode: a delta with nothing in it is not published (the
    ///   next delta then starts where this one would have).
    /// - Returns: the published replica, or nil when an empty delta was skipped.
    public func produce(
        layerId: Int, type: GeometryType, replicaType: ReplicaType, skipEmptyDelta: Bool = false, waitForChain: Bool = true
    ) async throws -> Replica? {
        try await locks.withLock("\(layerId)/\(type.rawValue)") {
            // Across nodes: the chain's lease in the store (expiring, so a dead node cannot hold it forever).
            var acquired = false
            for _ in 0..<(waitForChain ? 300 : 1) {
                let now = clock.now()
                acquired = try await store.acquireChain(
                    layerId: layerId, type: type, owner: node, until: now.addingTimeInterval(chainLease), now: exclusive ? .distantFuture : now
                )
                if acquired { break }
                try await clock.sleep(for: .milliseconds(100))
            }
            guard acquired else {
                if waitForChain { throw ServiceError(.conflict, "another node is producing a replica of layer \(layerId) \(type.rawValue); try again") }
                return nil
            }
            do {
                // The lease is renewed every third of its length while the replica is made, so a long production
                // keeps its chain; a producer that finds its lease taken (it stalled past the expiry and another
                // node took over) stops before publishing, so a chain never forks.
                let result = try await withThrowingTaskGroup(of: Replica??.self) { group in
                    group.addTask {
                        .some(try await produceLocked(layerId: layerId, type: type, replicaType: replicaType, skipEmptyDelta: skipEmptyDelta))
                    }
                    group.addTask {
                        try await renewChain(layerId: layerId, type: type)
                        return nil
                    }
                    let first = try await group.next()!
                    group.cancelAll()
                    return first!
                }
                try? await store.releaseChain(layerId: layerId, type: type, owner: node)
                return result
            } catch {
                try? await store.releaseChain(layerId: layerId, type: type, owner: node)
                throw error
            }
        }
    }

    /// Extends the chain lease until cancelled; throws when another producer holds it.
    private func renewChain(layerId: Int, type: GeometryType) async throws {
        while true {
            try await clock.sleep(for: .milliseconds(Int64(chainLease * 1000 / 3)))
            let now = clock.now()
            let renewed = try? await store.acquireChain(
                layerId: layerId, type: type, owner: node, until: now.addingTimeInterval(chainLease), now: exclusive ? .distantFuture : now
            )
            if renewed == false {
                throw ServiceError(.conflict, "the production lease of layer \(layerId) \(type.rawValue) was taken over; this replica is dropped")
            }
        }
    }

    private func produceLocked(layerId: Int, type: GeometryType, replicaType: ReplicaType, skipEmptyDelta: Bool) async throws -> Replica? {
        guard let layer = try await store.layer(id: layerId) else {
            throw ServiceError.notFound("layer \(layerId) was not found")
        }
        guard layer.geometryTypes.contains(type) else {
            throw ServiceError.invalid(
                "layer \(layerId) holds no \(type.rawValue) features (it holds \(layer.geometryTypes.map(\.rawValue).joined(separator: ", ")))"
            )
        }
        let sequence = layer.lastSequence
        let lastDelta = try await store.latestReplica(layerId: layerId, type: type, replicaType: .delta, origin: .produced)
        let lastSnapshot = try await store.latestReplica(layerId: layerId, type: type, replicaType: .snapshot, origin: .produced)
        let latest = [lastDelta?.timestamp, lastSnapshot?.timestamp].compactMap { $0 }.max()
        var timestamp = Timestamp.milliseconds(clock.now())
        if let latest, timestamp <= latest { timestamp = latest.addingTimeInterval(0.001) }
        switch replicaType {
        case .delta:
            return try await delta(layer: layer, type: type, to: sequence, at: timestamp, after: lastDelta, snapshot: lastSnapshot, skipEmpty: skipEmptyDelta)
        case .snapshot:
            var onDelta = lastDelta
            if let lastDelta, sequence > lastDelta.changeSequence {
                onDelta = try await delta(layer: layer, type: type, to: sequence, at: timestamp, after: lastDelta, snapshot: lastSnapshot, skipEmpty: true)
                    ?? lastDelta
            }
            return try await snapshot(layer: layer, type: type, sequence: sequence, at: timestamp, onDelta: onDelta?.sequenceNumber ?? 0)
        }
    }

    private func snapshot(layer: Layer, type: GeometryType, sequence: Int, at timestamp: Date, onDelta: Int) async throws -> Replica {
        var replica = Replica(
            replicaId: UUID(), layerId: layer.layerId, geometryType: type, replicaType: .snapshot,
            sequenceNumber: 0, timestamp: timestamp, fromTimestamp: nil,
            changeSequence: sequence, fromChangeSequence: nil, files: [], sourceId: layer.sourceId
        )
        replica.linkedSequence = onDelta
        let store = self.store
        let pageSize = self.pageSize
        let packaging = self.packaging
        let prefix = Self.keyPrefix(replica)
        let splits = try await store.splitPoints(layerId: layer.layerId, type: type, parts: parallelism)
        let ranges = zip([""] + splits, splits.map(Optional.some) + [nil]).map { (after: $0, before: $1) }
        let published = try await publish(replica, skipWhenEmpty: false) {
            // Each id range gets its own writer (and so its own zips) on its own task; files keep range order.
            let parts = try await withThrowingTaskGroup(of: (Int, [ReplicaFile], Int, LayerHash).self) { group in
                for (index, range) in ranges.enumerated() {
                    group.addTask {
                        let writer = try packaging.makeWriter(keyPrefix: prefix, alwaysWriteFeatureFile: index == 0)
                        var count = 0
                        var hash = LayerHash()
                        try await Self.pages(first: SnapshotCursor(after: range.after, limit: pageSize), next: { $0.next(pageSize: pageSize) }) { cursor in
                            let texts = try await store.snapshotTexts(
                                layerId: layer.layerId, type: type, asOf: sequence, after: cursor.after, before: range.before, limit: cursor.limit
                            )
                            return SnapshotPage(texts: texts, limit: cursor.limit)
                        } each: { snapshotPage in
                            let page = snapshotPage.texts
                            hash.combine(
                                try await Offload.run {
                                    try writer.add(features: page)
                                    var part = LayerHash()
                                    part.toggle(each: page)
                                    return part
                                }
                            )
                            count += page.count
                        }
                        return (index, try await writer.finish(), count, hash)
                    }
                }
                return try await group.reduce(into: [(Int, [ReplicaFile], Int, LayerHash)]()) { $0.append($1) }.sorted { $0.0 < $1.0 }
            }
            var hash = LayerHash()
            for part in parts { hash.combine(part.3) }
            return (parts.flatMap(\.1), parts.reduce(0) { $0 + $1.2 }, hash)
        }
        // A snapshot is never skipped (skipWhenEmpty is false), so it is always published.
        return published!
    }

    private func delta(
        layer: Layer, type: GeometryType, to sequence: Int, at timestamp: Date, after previous: Replica?,
        snapshot: Replica?, skipEmpty: Bool
    ) async throws -> Replica? {
        let start = previous ?? snapshot
        let from = start?.changeSequence ?? 0
        var replica = Replica(
            replicaId: UUID(), layerId: layer.layerId, geometryType: type, replicaType: .delta,
            sequenceNumber: 0, timestamp: timestamp,
            fromTimestamp: start?.timestamp ?? layer.createdAt, changeSequence: sequence, fromChangeSequence: from, files: [], sourceId: layer.sourceId
        )
        replica.linkedSequence = snapshot?.sequenceNumber
        if skipEmpty && sequence <= from { return nil }
        var entries = 0
        // The state after the delta: the one it starts from, with every changed feature's old and new text toggled. A
        // chain that starts at a replica without a hash (made before hashes) has none.
        var hash: LayerHash? = start.map { $0.layerHash.flatMap(LayerHash.init(hex:)) } ?? LayerHash()
        let store = self.store
        let pageSize = self.pageSize
        let writer = try packaging.makeWriter(keyPrefix: Self.keyPrefix(replica), alwaysWriteFeatureFile: false)
        let published = try await publish(replica, skipWhenEmpty: skipEmpty) {
            try await Self.pages(pageSize: pageSize, id: \.id, first: "") { after in
                try await store.deltaPage(layerId: layer.layerId, type: type, from: from, to: sequence, after: after, limit: pageSize)
            } each: { page in
                let (added, changed) = try await Offload.run { try Self.write(page, to: writer, area: nil) }
                entries += added
                hash?.combine(changed)
            }
            // An empty delta publishes no zip (nothing was added).
            return (try await writer.finish(), entries, hash)
        }
        return published
    }

    /// Writes one page of a delta's changed features (``DeltaRule``) and returns how many entries it wrote and the XOR of
    /// every old and new state's hash. With an area, a state whose geometry does not meet it counts as absent: a feature
    /// that left the area is a deletion, one that entered it a creation (issue #14 item 4).
    static func write(
        _ page: [(id: String, before: FeatureState?, after: FeatureState?)], to writer: any ReplicaWriter, area: BoundingBox?
    ) throws -> (entries: Int, changed: LayerHash) {
        func within(_ state: FeatureState?) throws -> FeatureState? {
            guard let state, let area else { return state }
            let geometry = try GeoJSONGeometry(json: try JSONValue.parse(Data(state.geometry.utf8)), path: "geometry")
            return area.meets(geometry) ? state : nil
        }
        var added = 0
        var changed = LayerHash()
        for item in page {
            let before = try within(item.before)
            let after = try within(item.after)
            if let before { changed.toggle(before.featureText()) }
            if let after { changed.toggle(after.featureText()) }
            switch try DeltaRule.entry(before: before, after: after) {
            case .upsert(let state, let diff)?:
                try writer.add(feature: state.featureText(diff: diff))
                added += 1
            case .delete(let id)?:
                try writer.add(deletedId: id)
                added += 1
            case nil:
                break
            }
        }
        return (added, changed)
    }

    /// A delta over any kept window of the layer's changes, optionally of one area, outside every chain (issue #14 item
    /// 4): the same pages, rules and zips as a chain delta, in a folder of its own build id. Nothing is left on failure.
    public func window(layer: Layer, type: GeometryType, from: Int, to: Int, bbox: BoundingBox?) async throws -> WindowDelta {
        var delta = WindowDelta(
            key: WindowDelta.key(layerId: layer.layerId, type: type, from: from, to: to, bbox: bbox), buildId: UUID(), layerId: layer.layerId,
            geometryType: type, fromChangeSequence: from, changeSequence: to, bbox: bbox, files: [], createdAt: clock.now()
        )
        let prefix = delta.keyPrefix
        let store = self.store
        let pageSize = self.pageSize
        do {
            let writer = try packaging.makeWriter(keyPrefix: prefix, alwaysWriteFeatureFile: false)
            try await Self.pages(pageSize: pageSize, id: \.id, first: "") { after in
                try await store.deltaPage(layerId: layer.layerId, type: type, from: from, to: to, after: after, limit: pageSize)
            } each: { page in
                _ = try await Offload.run { try Self.write(page, to: writer, area: bbox) }
            }
            delta.files = try await writer.finish()
            return delta
        } catch {
            try? await artifacts.delete(prefix: prefix)
            throw error
        }
    }

    /// Walks pages in id order with the next page already being read while the current one is written:
    /// reads run on the store's own threads, so reading and compressing use two cores.
    static func pages<Item: Sendable>(
        pageSize: Int, id: @escaping @Sendable (Item) -> String, first: String,
        fetch: @escaping @Sendable (String) async throws -> [Item], each: ([Item]) async throws -> Void
    ) async throws {
        try await pages(first: first, next: { $0.count == pageSize && !$0.isEmpty ? id($0[$0.count - 1]) : nil }, fetch: fetch, each: each)
    }

    /// Where a snapshot page starts and how many features it may hold.
    struct SnapshotCursor: Sendable {
        var after: String
        var limit: Int
    }

    /// A snapshot page and the limit it was read with (a page shorter than its limit is the range's last).
    struct SnapshotPage: Sendable {
        var texts: FeatureTexts
        var limit: Int

        /// About this many bytes of texts per page: a page of 5,000 large polygons was 12 MB, and with a snapshot's four
        /// ranges each holding a page and the next one read ahead, a polygon snapshot's peak RSS was 310 MB (issue #15:
        /// ≤ 300 MB). Points stay at the full page size.
        static let targetBytes = 4 << 20

        /// The page after this one, sized from this one's bytes per feature; nil after the last.
        func next(pageSize: Int) -> SnapshotCursor? {
            guard texts.count == limit, texts.count > 0 else { return nil }
            let perFeature = max(1, texts.bytes.count / texts.count)
            return SnapshotCursor(after: texts.lastId, limit: min(pageSize, max(100, Self.targetBytes / perFeature)))
        }
    }

    /// The same walk over pages of any shape: `next` tells where the page after one starts, nil after the last.
    static func pages<Page: Sendable, Cursor: Sendable>(
        first: Cursor, next: @escaping @Sendable (Page) -> Cursor?,
        fetch: @escaping @Sendable (Cursor) async throws -> Page, each: (Page) async throws -> Void
    ) async throws {
        var current = try await fetch(first)
        while true {
            let following: Task<Page, any Error>? = next(current).map { after in Task { try await fetch(after) } }
            do {
                try await each(current)
            } catch {
                following?.cancel()
                throw error
            }
            guard let following else { return }
            current = try await following.value
        }
    }

    /// Hidden row → content → zips published → visible. Nothing visible on failure: the hidden row and every
    /// file under the replica's key prefix (staged or published) go.
    private func publish(
        _ replica: Replica, skipWhenEmpty: Bool, produce: () async throws -> (files: [ReplicaFile], entries: Int, hash: LayerHash?)
    ) async throws -> Replica? {
        try await store.insertHiddenReplica(replica)
        var published = replica
        do {
            let (files, entries, hash) = try await produce()
            if skipWhenEmpty && entries == 0 {
                try await store.deleteReplica(id: replica.replicaId)
                try await artifacts.delete(prefix: Self.keyPrefix(replica))
                return nil
            }
            published = replica
            published.files = files
            published.layerHash = hash?.hex
            // The store numbers it as it becomes visible: next in its chain, after registered replicas too.
            let now = clock.now()
            let notice = ReplicaNotice(now: now, expires: now.addingTimeInterval(webhookRetryBudget)) { ReplicaNotice.message($0, at: now) }
            published = try await store.publishReplica(published, notice: notice)
        } catch {
            try? await store.deleteReplica(id: replica.replicaId)
            try? await artifacts.delete(prefix: Self.keyPrefix(replica))
            throw error
        }
        // Last, and outside the rollback: the replica is published whatever happens to the state file (the next
        // publication writes it again).
        try? await writeState(layerId: replica.layerId, type: replica.geometryType)
        return published
    }

    /// `replicas/<layer>/<geometry type>/state.json` (issue #14 item 5), for mirrors that poll a plain file server (the
    /// artifact directory or bucket served as it is): the newest produced snapshot and delta, each with its sequence,
    /// change sequence, timestamp, layer hash and files (paths relative to the state file, size, SHA-256). Written after
    /// the replica it names is published, by rename, so it never names a file that is not there.
    func writeState(layerId: Int, type: GeometryType) async throws {
        var object: [String: JSONValue] = ["layerId": .number(Double(layerId)), "geometryType": .string(type.rawValue)]
        for replicaType in ReplicaType.allCases {
            let latest = try await store.latestReplica(layerId: layerId, type: type, replicaType: replicaType, origin: .produced)
            object[replicaType.rawValue] = latest.map { replica in
                let chainFolder = Self.chainFolder(layerId: layerId, type: type) + "/"
                var entry: [String: JSONValue] = [
                    "sequenceNumber": .number(Double(replica.sequenceNumber)), "changeSequence": .number(Double(replica.changeSequence)),
                    "timestamp": .string(Timestamp.string(replica.timestamp)), "layerHash": replica.layerHash.map(JSONValue.string) ?? .null,
                    "files": .array(
                        replica.files.map {
                            .object([
                                "path": .string(String($0.key.dropFirst(chainFolder.count))), "size": .number(Double($0.size)), "sha256": .string($0.sha256),
                            ])
                        }
                    ),
                ]
                entry["fromChangeSequence"] = replica.fromChangeSequence.map { .number(Double($0)) }
                entry[replicaType == .delta ? "snapshotSequenceNumber" : "deltaSequenceNumber"] = replica.linkedSequence.map { .number(Double($0)) }
                return .object(entry)
            } ?? .null
            object["sourceId"] = latest?.sourceId.map { .string($0.uuidString.lowercased()) } ?? object["sourceId"]
        }
        object["updatedAt"] = .string(Timestamp.string(clock.now()))
        let key = Self.chainFolder(layerId: layerId, type: type) + "/state.json"
        let staging = try artifacts.stagingPath(for: key)
        let text = CanonicalJSON.text(.object(object))
        try await Offload.run { try Data(text.utf8).write(to: URL(fileURLWithPath: staging)) }
        _ = try await artifacts.publish(stagingPath: staging, key: key)
    }

    /// `replicas/<layer>/<geometry type>`: the folder of a chain's replicas, its window deltas and its `state.json`.
    public static func chainFolder(layerId: Int, type: GeometryType) -> String {
        "replicas/\(layerId)/\(type.rawValue)"
    }

    /// `replicas/<layer>/<geometry type>/<replica id>`.
    public static func keyPrefix(_ replica: Replica) -> String {
        chainFolder(layerId: replica.layerId, type: replica.geometryType) + "/" + replica.replicaId.uuidString.lowercased()
    }
}

/// One producer at a time per chain, within this process.
actor ChainLocks {
    private var held: Set<String> = []
    private var waiters: [String: [CheckedContinuation<Void, Never>]] = [:]

    func withLock<T: Sendable>(_ key: String, _ body: @Sendable () async throws -> T) async throws -> T {
        while held.contains(key) {
            await withCheckedContinuation { waiters[key, default: []].append($0) }
        }
        held.insert(key)
        defer {
            held.remove(key)
            if var queue = waiters[key], !queue.isEmpty {
                queue.removeFirst().resume()
                waiters[key] = queue.isEmpty ? nil : queue
            }
        }
        return try await body()
    }
}
