import Foundation
import GRDB
import GRDBSQLite
import GeoJSON
import MapDepotCore
import ReplicationCore

/// Layers, feature history and replicas in SQLite.
///
/// `feature_versions` holds every version of every feature (a deleted feature is a version with a NULL
/// geometry); a change set is one write transaction that takes the layer's next sequence, so sequences are
/// gap-free and a change is all or nothing.
public struct SQLiteReplicationStore: ReplicationStore {
    private let database: SQLiteDatabase

    public init(database: SQLiteDatabase) {
        self.database = database
    }

    public func createLayer(_ draft: LayerDraft, now: Date) async throws -> Layer {
        try await database.pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM layers WHERE layer_name = ?", arguments: [draft.layerName]) == true {
                throw ServiceError(.conflict, "a layer named \(draft.layerName) exists already")
            }
            let id: Int
            if let wanted = draft.layerId {
                if try Bool.fetchOne(db, sql: "SELECT 1 FROM layers WHERE layer_id = ?", arguments: [wanted]) == true {
                    throw ServiceError(.conflict, "layer \(wanted) exists already")
                }
                id = wanted
            } else {
                id = (try Int.fetchOne(db, sql: "SELECT max(layer_id) FROM layers") ?? 0) + 1
            }
            try db.execute(
                sql: "INSERT INTO layers (layer_id, layer_name, geometry_types, created_at, source_id) VALUES (?, ?, ?, ?, ?)",
                arguments: [
                    id, draft.layerName, draft.geometryTypes.map(\.rawValue).joined(separator: ","), Timestamp.string(now),
                    draft.sourceId.uuidString.lowercased(),
                ]
            )
            return Layer(layerId: id, layerName: draft.layerName, geometryTypes: draft.geometryTypes, createdAt: now, sourceId: draft.sourceId)
        }
    }

    public func layers() async throws -> [Layer] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM layers ORDER BY layer_id").map(Self.layer)
        }
    }

    public func layer(id: Int) async throws -> Layer? {
        try await database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM layers WHERE layer_id = ?", arguments: [id]).map(Self.layer)
        }
    }

    static func layer(_ row: Row) throws -> Layer { try Layer(row: SQLiteStoredRow(row, table: "layers")) }

    public func apply(_ changes: ChangeSet, layerId: Int, now: Date) async throws -> ChangeResult {
        let now = Timestamp.milliseconds(now)
        let stamp = Timestamp.string(now)
        return try await database.pool.write { db in
            if let changeId = changes.changeId,
                let row = try Row.fetchOne(
                    db, sql: "SELECT * FROM layer_changes WHERE layer_id = ? AND change_id = ?", arguments: [layerId, changeId]
                )
            {
                return ChangeResult(
                    sequenceNumber: row["sequence"], timestamp: Timestamp.parse(row["timestamp"]) ?? now,
                    created: row["created"], modified: row["modified"], deleted: row["deleted"]
                )
            }
            guard let last = try Int.fetchOne(db, sql: "SELECT last_sequence FROM layers WHERE layer_id = ?", arguments: [layerId]) else {
                throw ServiceError.notFound("layer \(layerId) was not found")
            }
            let sequence = last + 1
            let alive = try db.cachedStatement(
                sql: "SELECT geometry IS NOT NULL FROM feature_versions WHERE layer_id = ? AND feature_id = ? ORDER BY sequence DESC LIMIT 1"
            )
            let insert = try db.cachedStatement(
                sql: "INSERT INTO feature_versions (layer_id, feature_id, sequence, geometry_type, geometry, properties) VALUES (?, ?, ?, ?, ?, ?)"
            )
            var created = 0
            var modified = 0
            for (index, id) in changes.deletes.enumerated() {
                guard try Bool.fetchOne(alive, arguments: [layerId, id]) == true else {
                    throw ServiceError.invalid("deletes[\(index)]: feature \"\(id)\" does not exist in layer \(layerId); nothing was applied")
                }
                try insert.execute(arguments: [layerId, id, sequence, nil, nil, nil])
            }
            for feature in changes.upserts {
                if try Bool.fetchOne(alive, arguments: [layerId, feature.id]) == true { modified += 1 } else { created += 1 }
                try insert.execute(
                    arguments: [layerId, feature.id, sequence, feature.geometryType.rawValue, feature.geometry, feature.properties]
                )
            }
            try db.execute(sql: "UPDATE layers SET last_sequence = ? WHERE layer_id = ?", arguments: [sequence, layerId])
            try db.execute(
                sql: "INSERT INTO layer_changes (layer_id, sequence, timestamp, change_id, created, modified, deleted) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [layerId, sequence, stamp, changes.changeId, created, modified, changes.deletes.count]
            )
            return ChangeResult(sequenceNumber: sequence, timestamp: now, created: created, modified: modified, deleted: changes.deletes.count)
        }
    }

    public func snapshotPage(layerId: Int, type: GeometryType, asOf sequence: Int, after: String, before: String?, limit: Int) async throws -> [FeatureState] {
        try await database.pool.read { db in
            var result: [FeatureState] = []
            result.reserveCapacity(limit)
            try Self.stepSnapshot(db, layerId: layerId, type: type, asOf: sequence, after: after, before: before, limit: limit) { id, geometry, properties in
                result.append(
                    FeatureState(
                        id: String(decoding: id, as: UTF8.self), geometryType: type, geometry: String(decoding: geometry, as: UTF8.self),
                        properties: String(decoding: properties, as: UTF8.self)
                    )
                )
            } dropLast: {
                result.removeLast()
            }
            return result
        }
    }

    /// Each row's columns straight into the page's bytes: no string per column, none per feature (issue #15).
    public func snapshotTexts(layerId: Int, type: GeometryType, asOf sequence: Int, after: String, before: String?, limit: Int) async throws -> FeatureTexts {
        try await database.pool.read { db in
            var texts = FeatureTexts(reservingFeatures: limit, bytes: limit * 160)
            var lastId: [UInt8] = []
            try Self.stepSnapshot(db, layerId: layerId, type: type, asOf: sequence, after: after, before: before, limit: limit) { id, geometry, properties in
                texts.append(id: id, geometry: geometry, properties: properties)
                lastId.removeAll(keepingCapacity: true)
                lastId.append(contentsOf: id)
            } dropLast: {
                texts.removeLast()
            }
            texts.lastId = texts.count == 0 ? "" : String(decoding: lastId, as: UTF8.self)
            return texts
        }
    }

    /// Steps a snapshot page through SQLite's C API (a million-feature snapshot spends its time here): every feature's
    /// newest version as of the sequence, when it is alive and of `type`, in id order, at most `limit`.
    ///
    /// One plain pass over the (layer, feature, sequence) index in its order, a feature's versions oldest first: each row
    /// that is alive and of the type is appended at once (its columns are only valid until the next step), and taken
    /// back by `dropLast` when a newer version of the same feature follows. Most features have one version, so little is
    /// taken back; a `GROUP BY feature_id` with `max(sequence)` gave the same rows for 1.5–2× the time, copying every
    /// row's columns into its aggregate (0.9–1.5 s against 0.4–0.8 s for a million points).
    private static func stepSnapshot(
        _ db: Database, layerId: Int, type: GeometryType, asOf sequence: Int, after: String, before: String?, limit: Int,
        append: (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>) -> Void, dropLast: () -> Void
    ) throws {
        let statement = try db.cachedStatement(
            sql: """
                SELECT feature_id, geometry_type, geometry, properties FROM feature_versions
                WHERE layer_id = ?1 AND feature_id > ?2 AND (?4 IS NULL OR feature_id <= ?4) AND sequence <= ?3
                ORDER BY feature_id, sequence
                """
        )
        try statement.setArguments([layerId, after, sequence, before])
        let handle = statement.sqliteStatement
        defer { sqlite3_reset(handle) }
        func column(_ index: Int32) -> UnsafeBufferPointer<UInt8> {
            // The length SQLite already knows, instead of a strlen per column.
            guard let bytes = sqlite3_column_text(handle, index) else { return UnsafeBufferPointer(start: nil, count: 0) }
            return UnsafeBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(handle, index)))
        }
        let wanted = Array(type.rawValue.utf8)
        // Byte comparison by memcmp: the generic elementsEqual was 2 % of a snapshot.
        func same(_ bytes: UnsafeBufferPointer<UInt8>, _ other: [UInt8]) -> Bool {
            bytes.count == other.count && (bytes.isEmpty || other.withUnsafeBufferPointer { memcmp(bytes.baseAddress!, $0.baseAddress!, bytes.count) == 0 })
        }
        var previousId: [UInt8] = []
        var previousAppended = false
        var count = 0
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { return }
            guard code == SQLITE_ROW else {
                throw StorageFailure("reading the layer failed: \(String(cString: sqlite3_errmsg(db.sqliteConnection)))")
            }
            let id = column(0)
            if same(id, previousId) {
                // A newer version of the same feature: the one appended before is not its state.
                if previousAppended {
                    dropLast()
                    count -= 1
                }
            } else {
                // The previous feature is complete; a full page ends before the next one.
                if count == limit { return }
                previousId.removeAll(keepingCapacity: true)
                previousId.append(contentsOf: id)
            }
            previousAppended = sqlite3_column_type(handle, 2) != SQLITE_NULL && same(column(1), wanted)
            if previousAppended {
                append(id, column(2), column(3))
                count += 1
            }
        }
    }

    public func splitPoints(layerId: Int, type: GeometryType, parts: Int) async throws -> [String] {
        guard parts > 1 else { return [] }
        return try await database.pool.read { db in
            if let sampled = try Self.sampledSplitPoints(db, layerId: layerId, type: type, parts: parts) { return sampled }
            let versions =
                try Int.fetchOne(db, sql: "SELECT count(*) FROM feature_versions WHERE layer_id = ? AND geometry_type = ?", arguments: [layerId, type.rawValue]) ?? 0
            // Small layers are not worth a second task.
            guard versions >= Self.splitThreshold else { return [] }
            return try (1..<parts).compactMap { part in
                try String.fetchOne(
                    db, sql: "SELECT feature_id FROM feature_versions WHERE layer_id = ? AND geometry_type = ? ORDER BY feature_id LIMIT 1 OFFSET ?",
                    arguments: [layerId, type.rawValue, versions * part / parts]
                )
            }
        }
    }

    /// Layers with fewer versions than this are not worth a second task.
    static let splitThreshold = 20_000

    /// Split points from a systematic sample of the table by rowid: 1,024 lookups of a few microseconds each, where the
    /// exact count and `OFFSET` walk the whole layer's index (0.06–0.4 s before a million-point snapshot could start,
    /// issue #15). Rowids follow insertion, not ids, so the sample's id quantiles are the layer's to a percent or two,
    /// and any increasing ids make correct ranges; only the balance of the two tasks depends on them.
    /// - Returns: nil when too few sampled rows are of the layer and type (a small layer among large ones) to tell.
    private static func sampledSplitPoints(_ db: Database, layerId: Int, type: GeometryType, parts: Int) throws -> [String]? {
        // Two queries: SQLite finds a lone min() or max() of the rowid at once, but both in one query scan the table.
        guard let low = try Int64.fetchOne(db, sql: "SELECT min(rowid) FROM feature_versions"),
            let high = try Int64.fetchOne(db, sql: "SELECT max(rowid) FROM feature_versions")
        else { return [] }
        let samples = Int64(1_024)
        let statement = try db.cachedStatement(sql: "SELECT layer_id, geometry_type, feature_id FROM feature_versions WHERE rowid >= ? ORDER BY rowid LIMIT 1")
        var ids: [[UInt8]] = []
        for index in 0..<samples {
            guard let row = try Row.fetchOne(statement, arguments: [low + (high - low) * index / (samples - 1)]) else { continue }
            // Optional decoding: a deletion's version has no geometry type (a non-optional String would trap on its NULL).
            if (row[0] as Int?) == layerId, (row[1] as String?) == type.rawValue, let id: String = row[2] { ids.append(Array(id.utf8)) }
        }
        guard ids.count >= 256 else { return nil }
        if Double(ids.count) / Double(samples) * Double(high - low + 1) < Double(splitThreshold) { return [] }
        // Byte order, as SQLite compares the ids (BINARY collation), not String's.
        ids.sort { $0.lexicographicallyPrecedes($1) }
        var splits: [[UInt8]] = []
        for part in 1..<parts where splits.last != ids[ids.count * part / parts] {
            splits.append(ids[ids.count * part / parts])
        }
        return splits.map { String(decoding: $0, as: UTF8.self) }
    }

    public func deltaPage(
        layerId: Int, type: GeometryType, from: Int, to: Int, after: String, limit: Int
    ) async throws -> [(id: String, before: FeatureState?, after: FeatureState?)] {
        try await database.pool.read { db in
            let ids = try String.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT feature_id FROM feature_versions
                    WHERE layer_id = ? AND sequence > ? AND sequence <= ? AND feature_id > ?
                    ORDER BY feature_id LIMIT ?
                    """,
                arguments: [layerId, from, to, after, limit]
            )
            let state = try db.cachedStatement(
                sql: """
                    SELECT geometry_type, geometry, properties FROM feature_versions
                    WHERE layer_id = ? AND feature_id = ? AND sequence <= ? ORDER BY sequence DESC LIMIT 1
                    """
            )
            func version(_ id: String, _ sequence: Int) throws -> FeatureState? {
                guard let row = try Row.fetchOne(state, arguments: [layerId, id, sequence]),
                    let geometry: String = row[1], row[0] == type.rawValue
                else { return nil }
                return FeatureState(id: id, geometryType: type, geometry: geometry, properties: row[2])
            }
            return try ids.map { id in (id, try version(id, from), try version(id, to)) }
        }
    }

    /// A replica row with its layer's source id.
    static let replicaColumns = "replicas.*, (SELECT l.source_id FROM layers l WHERE l.layer_id = replicas.layer_id) AS source_id"

    /// The next number of a replica's chain (`replicas.*` in the statement): after every replica of it, whoever made it.
    /// SQLite has one writer, so two statements never take the same number.
    private static let nextSequence = """
        (SELECT COALESCE(MAX(c.sequence_number), 0) + 1 FROM replicas c WHERE c.layer_id = replicas.layer_id
          AND c.geometry_type = replicas.geometry_type AND c.replica_type = replicas.replica_type)
        """

    /// One insert for produced and registered replicas: hidden, not numbered yet (0).
    private static func insert(_ replica: Replica, producing: Bool, in db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO replicas (replica_id, layer_id, geometry_type, replica_type, sequence_number, timestamp,
                  from_timestamp, change_sequence, from_change_sequence, is_hidden, files, created_at, origin, bucket_name, producing)
                VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, 1, '[]', ?, ?, ?, ?)
                """,
            arguments: [
                replica.replicaId.uuidString.lowercased(), replica.layerId, replica.geometryType.rawValue, replica.replicaType.rawValue,
                Timestamp.string(replica.timestamp), replica.fromTimestamp.map(Timestamp.string), replica.changeSequence,
                replica.fromChangeSequence, Timestamp.string(replica.timestamp), replica.origin.rawValue, replica.bucketName, producing,
            ]
        )
    }

    public func insertHiddenReplica(_ replica: Replica) async throws {
        try await database.pool.write { db in try Self.insert(replica, producing: true, in: db) }
    }

    public func publishReplica(_ replica: Replica, notice: ReplicaNotice?) async throws -> Replica {
        let files = ReplicaFile.storedText(replica.files)
        let id = replica.replicaId.uuidString.lowercased()
        return try await database.pool.write { db in
            try db.execute(
                sql: """
                    UPDATE replicas SET is_hidden = 0, producing = 0, files = ?, layer_hash = ?, linked_sequence = ?,
                      sequence_number = CASE WHEN sequence_number = 0 THEN \(Self.nextSequence) ELSE sequence_number END
                    WHERE replica_id = ?
                    """,
                arguments: [files, replica.layerHash, replica.linkedSequence, id]
            )
            var published = replica
            published.isHidden = false
            published.sequenceNumber = try Int.fetchOne(db, sql: "SELECT sequence_number FROM replicas WHERE replica_id = ?", arguments: [id]) ?? 0
            if let notice { try Self.queueDeliveries(of: published, notice: notice, db) }
            return published
        }
    }

    /// One outbox row per subscription that wants the replica (export webhooks' table, task 0: no task's).
    private static func queueDeliveries(of replica: Replica, notice: ReplicaNotice, _ db: Database) throws {
        let subscriptions = try Row.fetchAll(db, sql: "SELECT * FROM layer_subscriptions WHERE layer_id = ?", arguments: [replica.layerId])
            .map { try LayerSubscription(row: SQLiteStoredRow($0, table: "layer_subscriptions")) }
            .filter { $0.wants(replica.geometryType) }
        guard !subscriptions.isEmpty else { return }
        let body = notice.message(replica)
        for subscription in subscriptions {
            try db.execute(
                sql: """
                    INSERT INTO webhook_deliveries (id, task_id, event, url, secret, body, state, attempts, next_attempt_at, created_at, expires_at)
                    VALUES (?, 0, 'REPLICA_PUBLISHED', ?, ?, ?, 'PENDING', 0, ?, ?, ?)
                    """,
                arguments: [
                    UUID().uuidString.lowercased(), subscription.url, subscription.secret, body, Timestamp.string(notice.now),
                    Timestamp.string(notice.now), Timestamp.string(notice.expires),
                ]
            )
        }
    }

    public func createSubscription(_ subscription: LayerSubscription) async throws {
        try await database.pool.write { db in
            try db.execute(
                sql: "INSERT INTO layer_subscriptions (id, layer_id, subscriber, url, secret, geometry_types, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    subscription.id.uuidString.lowercased(), subscription.layerId, subscription.subscriber, subscription.url, subscription.secret,
                    subscription.geometryTypes.map(\.rawValue).joined(separator: ","), Timestamp.string(subscription.createdAt),
                ]
            )
        }
    }

    public func subscriptions(layerId: Int, subscriber: String) async throws -> [LayerSubscription] {
        try await database.pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM layer_subscriptions WHERE layer_id = ? AND subscriber = ? ORDER BY created_at, id", arguments: [layerId, subscriber]
            ).map { try LayerSubscription(row: SQLiteStoredRow($0, table: "layer_subscriptions")) }
        }
    }

    public func deleteSubscription(id: UUID, layerId: Int, subscriber: String) async throws -> Bool {
        try await database.pool.write { db in
            try db.execute(
                sql: "DELETE FROM layer_subscriptions WHERE id = ? AND layer_id = ? AND subscriber = ?",
                arguments: [id.uuidString.lowercased(), layerId, subscriber]
            )
            return db.changesCount > 0
        }
    }

    public func changeSequence(layerId: Int, at time: Date) async throws -> Int {
        try await database.pool.read { db in
            try Int.fetchOne(
                db, sql: "SELECT COALESCE(MAX(sequence), 0) FROM layer_changes WHERE layer_id = ? AND timestamp <= ?",
                arguments: [layerId, Timestamp.string(time)]
            ) ?? 0
        }
    }

    public func changeTime(layerId: Int, sequence: Int) async throws -> Date? {
        try await database.pool.read { db in
            try String.fetchOne(db, sql: "SELECT timestamp FROM layer_changes WHERE layer_id = ? AND sequence = ?", arguments: [layerId, sequence])
                .flatMap(Timestamp.rfc3339)
        }
    }

    public func windowDelta(key: String) async throws -> WindowDelta? {
        try await database.pool.read { db in try Self.windows(db, "WHERE key = ?", [key]).first }
    }

    public func windowDelta(buildId: UUID) async throws -> WindowDelta? {
        try await database.pool.read { db in try Self.windows(db, "WHERE build_id = ?", [buildId.uuidString.lowercased()]).first }
    }

    public func insertWindowDelta(_ delta: WindowDelta) async throws -> WindowDelta {
        try await database.pool.write { db in
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO window_deltas (key, build_id, layer_id, geometry_type, from_change_sequence, change_sequence, bbox, files, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    delta.key, delta.buildId.uuidString.lowercased(), delta.layerId, delta.geometryType.rawValue, delta.fromChangeSequence,
                    delta.changeSequence, WindowDelta.bboxText(delta.bbox), ReplicaFile.storedText(delta.files), Timestamp.string(delta.createdAt),
                ]
            )
            return try Self.windows(db, "WHERE key = ?", [delta.key]).first ?? delta
        }
    }

    public func pruneWindowDeltas(before time: Date) async throws -> [WindowDelta] {
        try await database.pool.write { db in
            let removed = try Self.windows(db, "WHERE created_at < ?", [Timestamp.string(time)])
            try db.execute(sql: "DELETE FROM window_deltas WHERE created_at < ?", arguments: [Timestamp.string(time)])
            return removed
        }
    }

    private static func windows(_ db: Database, _ condition: String, _ arguments: StatementArguments) throws -> [WindowDelta] {
        try Row.fetchAll(db, sql: "SELECT * FROM window_deltas \(condition)", arguments: arguments).map {
            try WindowDelta(row: SQLiteStoredRow($0, table: "window_deltas"))
        }
    }

    public func pruneReplicas(layerId: Int, type: GeometryType, before: Date) async throws -> [Replica] {
        let condition = """
            layer_id = ? AND geometry_type = ? AND origin = 'produced' AND is_hidden = 0 AND producing = 0 AND timestamp < ?
              AND sequence_number < (SELECT MAX(c.sequence_number) FROM replicas c WHERE c.layer_id = replicas.layer_id
                AND c.geometry_type = replicas.geometry_type AND c.replica_type = replicas.replica_type)
            """
        let arguments: StatementArguments = [layerId, type.rawValue, Timestamp.string(before)]
        return try await database.pool.write { db in
            let removed = try Self.replicas(db, sql: "SELECT \(Self.replicaColumns) FROM replicas WHERE \(condition)", arguments: arguments)
            try db.execute(sql: "DELETE FROM replicas WHERE \(condition)", arguments: arguments)
            for replicaType in ReplicaType.allCases {
                guard let highest = removed.filter({ $0.replicaType == replicaType }).map(\.sequenceNumber).max() else { continue }
                try db.execute(
                    sql: """
                        INSERT INTO replica_pruning VALUES (?, ?, ?, ?) ON CONFLICT (layer_id, geometry_type, replica_type)
                        DO UPDATE SET pruned_through = MAX(pruned_through, excluded.pruned_through)
                        """,
                    arguments: [layerId, type.rawValue, replicaType.rawValue, highest]
                )
            }
            return removed
        }
    }

    public func prunedThrough(layerId: Int, type: GeometryType, replicaType: ReplicaType) async throws -> Int {
        try await database.pool.read { db in
            try Int.fetchOne(
                db, sql: "SELECT pruned_through FROM replica_pruning WHERE layer_id = ? AND geometry_type = ? AND replica_type = ?",
                arguments: [layerId, type.rawValue, replicaType.rawValue]
            ) ?? 0
        }
    }

    public func pruneHistory(layerId: Int, through sequence: Int) async throws -> Int {
        try await database.pool.write { db in
            try db.execute(
                sql: """
                    DELETE FROM feature_versions WHERE layer_id = ? AND sequence <= ? AND (geometry IS NULL OR EXISTS (
                      SELECT 1 FROM feature_versions n WHERE n.layer_id = feature_versions.layer_id AND n.feature_id = feature_versions.feature_id
                        AND n.sequence > feature_versions.sequence AND n.sequence <= ?))
                    """,
                arguments: [layerId, sequence, sequence]
            )
            let removed = db.changesCount
            try db.execute(sql: "UPDATE layers SET history_from = MAX(history_from, ?) WHERE layer_id = ?", arguments: [sequence, layerId])
            return removed
        }
    }

    public func deleteReplica(id: UUID) async throws {
        try await database.pool.write { db in
            try db.execute(sql: "DELETE FROM replicas WHERE replica_id = ?", arguments: [id.uuidString.lowercased()])
        }
    }

    public func removeHiddenReplicas(now: Date) async throws -> [Replica] {
        let condition = """
            producing = 1 AND NOT EXISTS (SELECT 1 FROM replica_chain_leases l WHERE l.layer_id = replicas.layer_id
              AND l.geometry_type = replicas.geometry_type AND l.expires_at > ?)
            """
        let stamp = Timestamp.string(now)
        return try await database.pool.write { db in
            let hidden = try Self.replicas(db, sql: "SELECT \(Self.replicaColumns) FROM replicas WHERE \(condition)", arguments: [stamp])
            try db.execute(sql: "DELETE FROM replicas WHERE \(condition)", arguments: [stamp])
            return hidden
        }
    }

    public func acquireChain(layerId: Int, type: GeometryType, owner: String, until: Date, now: Date) async throws -> Bool {
        try await database.pool.write { db in
            if let row = try Row.fetchOne(
                db, sql: "SELECT owner, expires_at FROM replica_chain_leases WHERE layer_id = ? AND geometry_type = ?", arguments: [layerId, type.rawValue]
            ) {
                let holder: String = row["owner"]
                let expires: String = row["expires_at"]
                guard holder == owner || expires <= Timestamp.string(now) else { return false }
            }
            try db.execute(
                sql: "INSERT OR REPLACE INTO replica_chain_leases (layer_id, geometry_type, owner, expires_at) VALUES (?, ?, ?, ?)",
                arguments: [layerId, type.rawValue, owner, Timestamp.string(until)]
            )
            return true
        }
    }

    public func releaseChain(layerId: Int, type: GeometryType, owner: String) async throws {
        try await database.pool.write { db in
            try db.execute(
                sql: "DELETE FROM replica_chain_leases WHERE layer_id = ? AND geometry_type = ? AND owner = ?", arguments: [layerId, type.rawValue, owner]
            )
        }
    }

    public func replicas(_ query: ReplicaQuery) async throws -> [Replica] {
        var sql = "SELECT \(Self.replicaColumns) FROM replicas WHERE is_hidden = 0 AND layer_id = ? AND geometry_type = ? AND replica_type = ?"
        var arguments: StatementArguments = [query.layerId, query.geometryType.rawValue, query.replicaType.rawValue]
        if let from = query.exclusiveFrom {
            sql += " AND timestamp > ?"
            _ = arguments.append(contentsOf: [Timestamp.string(from)])
        }
        if let to = query.to {
            sql += " AND timestamp <= ?"
            _ = arguments.append(contentsOf: [Timestamp.string(to)])
        }
        if let after = query.afterSequence {
            sql += " AND sequence_number > ?"
            _ = arguments.append(contentsOf: [after])
        }
        if let cursor = query.page?.after {
            let id = cursor.replicaId.uuidString.lowercased()
            if query.afterSequence != nil {
                sql += " AND (sequence_number, replica_id) > (?, ?)"
                _ = arguments.append(contentsOf: [cursor.sequenceNumber, id])
            } else {
                sql += " AND (timestamp, sequence_number, replica_id) \(query.ascending ? ">" : "<") (?, ?, ?)"
                _ = arguments.append(contentsOf: [Timestamp.string(cursor.timestamp), cursor.sequenceNumber, id])
            }
        }
        sql += query.orderAndLimitSQL
        return try await database.pool.read { [sql, arguments] db in try Self.replicas(db, sql: sql, arguments: arguments) }
    }

    public func latestReplica(layerId: Int, type: GeometryType, replicaType: ReplicaType, origin: ReplicaOrigin?) async throws -> Replica? {
        try await database.pool.read { db in
            try Self.replicas(
                db,
                sql: """
                    SELECT \(Self.replicaColumns) FROM replicas WHERE layer_id = ? AND geometry_type = ? AND replica_type = ? AND is_hidden = 0
                      AND (? IS NULL OR origin = ?) ORDER BY timestamp DESC, sequence_number DESC LIMIT 1
                    """,
                arguments: [layerId, type.rawValue, replicaType.rawValue, origin?.rawValue, origin?.rawValue]
            ).first
        }
    }

    public func replica(id: UUID) async throws -> Replica? {
        try await database.pool.read { db in
            try Self.replicas(db, sql: "SELECT \(Self.replicaColumns) FROM replicas WHERE replica_id = ? AND is_hidden = 0", arguments: [id.uuidString.lowercased()]).first
        }
    }

    // MARK: The registry

    public func registerReplica(_ replica: Replica) async throws -> Bool {
        try await database.pool.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM replicas WHERE replica_id = ?", arguments: [replica.replicaId.uuidString.lowercased()]) != true
            else { return false }
            try Self.insert(replica, producing: false, in: db)
            return true
        }
    }

    public func registryReplicas(_ selection: ReplicaSelection) async throws -> [Replica] {
        let (condition, arguments) = Self.condition(selection)
        return try await database.pool.read { db in
            try Self.replicas(db, sql: "SELECT \(Self.replicaColumns) FROM replicas WHERE \(condition) ORDER BY timestamp, sequence_number", arguments: arguments)
        }
    }

    public func updateRegistryFields(_ replicas: [Replica]) async throws {
        try await database.pool.write { db in
            for replica in replicas {
                try db.execute(
                    sql: """
                        UPDATE replicas SET timestamp = ?, layer_id = ?, geometry_type = ?, replica_type = ?, bucket_name = ?, is_hidden = ?,
                          sequence_number = ? WHERE replica_id = ? AND producing = 0
                        """,
                    arguments: [
                        Timestamp.string(replica.timestamp), replica.layerId, replica.geometryType.rawValue, replica.replicaType.rawValue,
                        replica.bucketName, replica.isHidden, replica.sequenceNumber, replica.replicaId.uuidString.lowercased(),
                    ]
                )
                // Visible and not numbered (published now, or moved to another chain): next in its chain.
                try db.execute(
                    sql: "UPDATE replicas SET sequence_number = \(Self.nextSequence) WHERE replica_id = ? AND is_hidden = 0 AND sequence_number = 0",
                    arguments: [replica.replicaId.uuidString.lowercased()]
                )
            }
        }
    }

    public func deleteReplicas(_ selection: ReplicaSelection) async throws -> [Replica] {
        let (condition, arguments) = Self.condition(selection)
        return try await database.pool.write { db in
            let selected = try Self.replicas(db, sql: "SELECT \(Self.replicaColumns) FROM replicas WHERE \(condition) ORDER BY timestamp, sequence_number", arguments: arguments)
            try db.execute(sql: "DELETE FROM replicas WHERE \(condition)", arguments: arguments)
            return selected
        }
    }

    public func addRegisteredFile(_ fileId: UUID, replicaId: UUID) async throws -> FileRegistrationOutcome {
        let replica = replicaId.uuidString.lowercased()
        let file = fileId.uuidString.lowercased()
        return try await database.pool.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM replicas WHERE replica_id = ? AND producing = 0", arguments: [replica]) == true else {
                return .noSuchReplica
            }
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM registered_files WHERE file_id = ?", arguments: [file]) != true else { return .fileIdTaken }
            try db.execute(
                sql: """
                    INSERT INTO registered_files (file_id, replica_id, position)
                    VALUES (?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM registered_files WHERE replica_id = ?))
                    """,
                arguments: [file, replica, replica]
            )
            return .added
        }
    }

    /// The rows a registry selection names: never a replica being produced.
    private static func condition(_ selection: ReplicaSelection) -> (String, StatementArguments) {
        switch selection {
        case .id(let id):
            return ("producing = 0 AND replica_id = ?", [id.uuidString.lowercased()])
        case .filter(let filter):
            var sql = "producing = 0"
            var arguments: StatementArguments = []
            func add(_ clause: String, _ value: (any DatabaseValueConvertible)?) {
                guard let value else { return }
                sql += " AND \(clause)"
                _ = arguments.append(contentsOf: [value])
            }
            add("replica_type = ?", filter.replicaType?.rawValue)
            add("geometry_type = ?", filter.geometryType?.rawValue)
            add("layer_id = ?", filter.layerId)
            add("is_hidden = ?", filter.isHidden)
            add("timestamp > ?", filter.exclusiveFrom.map(Timestamp.string))
            add("timestamp <= ?", filter.to.map(Timestamp.string))
            return (sql, arguments)
        }
    }

    /// Replica rows, with the files registered to the registered ones (one more query, only when there are some).
    private static func replicas(_ db: Database, sql: String, arguments: StatementArguments) throws -> [Replica] {
        var replicas = try Row.fetchAll(db, sql: sql, arguments: arguments).map { try Replica(row: SQLiteStoredRow($0, table: "replicas")) }
        let registered = replicas.indices.filter { replicas[$0].origin == .registered }
        guard !registered.isEmpty else { return replicas }
        let ids = registered.map { replicas[$0].replicaId.uuidString.lowercased() }
        var files: [String: [UUID]] = [:]
        // In chunks: a statement takes a bounded number of parameters.
        for start in stride(from: 0, to: ids.count, by: 500) {
            let chunk = Array(ids[start..<min(start + 500, ids.count)])
            for row in try Row.fetchAll(
                db, sql: "SELECT replica_id, file_id FROM registered_files WHERE replica_id IN (\(chunk.map { _ in "?" }.joined(separator: ","))) ORDER BY position",
                arguments: StatementArguments(chunk)
            ) {
                let text: String = row["file_id"]
                guard let id = UUID(uuidString: text) else { throw CorruptRow(table: "registered_files", column: "file_id", value: text) }
                files[row["replica_id"], default: []].append(id)
            }
        }
        for index in registered { replicas[index].registeredFiles = files[replicas[index].replicaId.uuidString.lowercased()] ?? [] }
        return replicas
    }
}
