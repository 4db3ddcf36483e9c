import Foundation
import Logging
import MapDepotCore
import PostgresNIO
import ReplicationCore

/// Layers, feature history and replicas in PostgreSQL.
///
/// A change set locks its layer's row (`FOR UPDATE`) for its transaction, so writers on several nodes take
/// sequence numbers one after another: gap-free and monotonic.
public struct PostgresReplicationStore: ReplicationStore {
    let database: PostgresDatabase

    public init(database: PostgresDatabase) {
        self.database = database
    }

    private var logger: Logger { database.logger }

    public func createLayer(_ draft: LayerDraft, now: Date) async throws -> Layer {
        let logger = self.logger
        return try await database.transaction { connection in
            try await connection.query("LOCK TABLE layers IN SHARE ROW EXCLUSIVE MODE", logger: logger)
            if !(try await connection.query("SELECT 1 FROM layers WHERE layer_name = \(draft.layerName)", logger: logger).all()).isEmpty {
                throw ServiceError(.conflict, "a layer named \(draft.layerName) exists already")
            }
            let id: Int
            if let wanted = draft.layerId {
                if !(try await connection.query("SELECT 1 FROM layers WHERE layer_id = \(wanted)", logger: logger).all()).isEmpty {
                    throw ServiceError(.conflict, "layer \(wanted) exists already")
                }
                id = wanted
            } else {
                id = (try await connection.query("SELECT coalesce(max(layer_id), 0) AS n FROM layers", logger: logger).all().first?.int("n") ?? 0) + 1
            }
            try await connection.query(
                """
                INSERT INTO layers (layer_id, layer_name, geometry_types, created_at, source_id)
                VALUES (\(id), \(draft.layerName), \(draft.geometryTypes.map(\.rawValue).joined(separator: ",")), \(Timestamp.string(now)),
                  \(draft.sourceId.uuidString.lowercased()))
                """, logger: logger
            )
            return Layer(layerId: id, layerName: draft.layerName, geometryTypes: draft.geometryTypes, createdAt: now, sourceId: draft.sourceId)
        }
    }

    public func layers() async throws -> [Layer] {
        try await database.query("SELECT * FROM layers ORDER BY layer_id", logger: logger).all().map(Self.layer)
    }

    public func layer(id: Int) async throws -> Layer? {
        try await database.query("SELECT * FROM layers WHERE layer_id = \(id)", logger: logger).all().first.map(Self.layer)
    }

    static func layer(_ row: PostgresRandomAccessRow) throws -> Layer { try Layer(row: PostgresStoredRow(row: row, table: "layers")) }

    public func apply(_ changes: ChangeSet, layerId: Int, now: Date) async throws -> ChangeResult {
        let now = Timestamp.milliseconds(now)
        let stamp = Timestamp.string(now)
        let logger = self.logger
        return try await database.transaction { connection in
            guard let layer = try await connection.query("SELECT last_sequence FROM layers WHERE layer_id = \(layerId) FOR UPDATE", logger: logger).all().first else {
                throw ServiceError.notFound("layer \(layerId) was not found")
            }
            if let changeId = changes.changeId,
                let row = try await connection.query(
                    "SELECT * FROM layer_changes WHERE layer_id = \(layerId) AND change_id = \(changeId)", logger: logger
                ).all().first
            {
                return ChangeResult(
                    sequenceNumber: try row.int("sequence"), timestamp: try row.date("timestamp") ?? now, created: try row.int("created"),
                    modified: try row.int("modified"), deleted: try row.int("deleted")
                )
            }
            let sequence = try layer.int("last_sequence") + 1
            var alive = Set<String>()
            let ids = changes.deletes + changes.upserts.map(\.id)
            for try await (id, geometry) in try await connection.query(
                """
                SELECT DISTINCT ON (feature_id) feature_id, geometry FROM feature_versions
                WHERE layer_id = \(layerId) AND feature_id = ANY(\(ids)) ORDER BY feature_id, sequence DESC
                """, logger: logger
            ).decode((String, String?).self) where geometry != nil {
                alive.insert(id)
            }
            for (index, id) in changes.deletes.enumerated() where !alive.contains(id) {
                throw ServiceError.invalid("deletes[\(index)]: feature \"\(id)\" does not exist in layer \(layerId); nothing was applied")
            }
            let created = changes.upserts.filter { !alive.contains($0.id) }.count
            let modified = changes.upserts.count - created
            let rowIds = changes.deletes + changes.upserts.map(\.id)
            // One statement for the whole set; a delete is a version without geometry ('' → NULL).
            let types = changes.deletes.map { _ in "" } + changes.upserts.map(\.geometryType.rawValue)
            let geometries = changes.deletes.map { _ in "" } + changes.upserts.map(\.geometry)
            let properties = changes.deletes.map { _ in "" } + changes.upserts.map(\.properties)
            try await connection.query(
                """
                INSERT INTO feature_versions (layer_id, feature_id, sequence, geometry_type, geometry, properties)
                SELECT \(layerId), id, \(sequence), NULLIF(kind, ''), NULLIF(geometry, ''), NULLIF(properties, '')
                FROM unnest(\(rowIds)::text[], \(types)::text[], \(geometries)::text[], \(properties)::text[]) AS t(id, kind, geometry, properties)
                """, logger: logger
            )
            try await connection.query("UPDATE layers SET last_sequence = \(sequence) WHERE layer_id = \(layerId)", logger: logger)
            try await connection.query(
                """
                INSERT INTO layer_changes (layer_id, sequence, timestamp, change_id, created, modified, deleted)
                VALUES (\(layerId), \(sequence), \(stamp), \(changes.changeId), \(created), \(modified), \(changes.deletes.count))
                """, logger: logger
            )
            return ChangeResult(sequenceNumber: sequence, timestamp: now, created: created, modified: modified, deleted: changes.deletes.count)
        }
    }

    public func snapshotPage(layerId: Int, type: GeometryType, asOf sequence: Int, after: String, before: String?, limit: Int) async throws -> [FeatureState] {
        var result: [FeatureState] = []
        for try await (id, geometry, properties) in try await database.query(
            """
            SELECT feature_id, geometry, properties FROM (
              SELECT DISTINCT ON (feature_id) feature_id, geometry_type, geometry, properties FROM feature_versions
              WHERE layer_id = \(layerId) AND sequence <= \(sequence) AND feature_id > \(after) AND (\(before)::text IS NULL OR feature_id <= \(before))
              ORDER BY feature_id, sequence DESC) latest
            WHERE geometry_type = \(type.rawValue) AND geometry IS NOT NULL ORDER BY feature_id LIMIT \(limit)
            """, logger: logger
        ).decode((String, String, String).self) {
            result.append(FeatureState(id: id, geometryType: type, geometry: geometry, properties: properties))
        }
        return result
    }

    public func splitPoints(layerId: Int, type: GeometryType, parts: Int) async throws -> [String] {
        guard parts > 1 else { return [] }
        let versions = try await database.query(
            "SELECT count(*) AS n FROM feature_versions WHERE layer_id = \(layerId) AND geometry_type = \(type.rawValue)", logger: logger
        ).all().first?.int("n") ?? 0
        guard versions >= 20_000 else { return [] }
        var result: [String] = []
        for part in 1..<parts {
            for try await id in try await database.query(
                """
                SELECT feature_id FROM feature_versions WHERE layer_id = \(layerId) AND geometry_type = \(type.rawValue)
                ORDER BY feature_id OFFSET \(versions * part / parts) LIMIT 1
                """,
                logger: logger
            ).decode(String.self) {
                result.append(id)
            }
        }
        return result
    }

    public func deltaPage(
        layerId: Int, type: GeometryType, from: Int, to: Int, after: String, limit: Int
    ) async throws -> [(id: String, before: FeatureState?, after: FeatureState?)] {
        var result: [(id: String, before: FeatureState?, after: FeatureState?)] = []
        for try await (id, beforeType, beforeGeometry, beforeProperties, afterType, afterGeometry, afterProperties) in try await database.query(
            """
            WITH ids AS (
              SELECT DISTINCT feature_id FROM feature_versions
              WHERE layer_id = \(layerId) AND sequence > \(from) AND sequence <= \(to) AND feature_id > \(after)
              ORDER BY feature_id LIMIT \(limit))
            SELECT ids.feature_id, b.geometry_type, b.geometry, b.properties, a.geometry_type, a.geometry, a.properties FROM ids
            LEFT JOIN LATERAL (SELECT geometry_type, geometry, properties FROM feature_versions v
              WHERE v.layer_id = \(layerId) AND v.feature_id = ids.feature_id AND v.sequence <= \(from) ORDER BY v.sequence DESC LIMIT 1) b ON true
            LEFT JOIN LATERAL (SELECT geometry_type, geometry, properties FROM feature_versions v
              WHERE v.layer_id = \(layerId) AND v.feature_id = ids.feature_id AND v.sequence <= \(to) ORDER BY v.sequence DESC LIMIT 1) a ON true
            ORDER BY ids.feature_id
            """, logger: logger
        ).decode((String, String?, String?, String?, String?, String?, String?).self) {
            func state(_ kind: String?, _ geometry: String?, _ properties: String?) -> FeatureState? {
                guard kind == type.rawValue, let geometry else { return nil }
                return FeatureState(id: id, geometryType: type, geometry: geometry, properties: properties ?? "{}")
            }
            result.append((id, state(beforeType, beforeGeometry, beforeProperties), state(afterType, afterGeometry, afterProperties)))
        }
        return result
    }

    /// A replica row with its layer's source id.
    static let replicaColumns = "replicas.*, (SELECT l.source_id FROM layers l WHERE l.layer_id = replicas.layer_id) AS source_id"

    /// One insert for produced and registered replicas: hidden, not numbered yet (0); false when the id is taken.
    private static func insert(_ replica: Replica, producing: Bool, on database: PostgresDatabase, logger: Logger) async throws -> Bool {
        let rows = try await database.query(
            """
            INSERT INTO replicas (replica_id, layer_id, geometry_type, replica_type, sequence_number, timestamp, from_timestamp, change_sequence,
              from_change_sequence, is_hidden, files, created_at, origin, bucket_name, producing)
            VALUES (\(replica.replicaId.uuidString.lowercased()), \(replica.layerId), \(replica.geometryType.rawValue), \(replica.replicaType.rawValue),
              0, \(Timestamp.string(replica.timestamp)), \(replica.fromTimestamp.map(Timestamp.string)), \(replica.changeSequence),
              \(replica.fromChangeSequence), true, '[]', \(Timestamp.string(replica.timestamp)), \(replica.origin.rawValue),
              \(replica.bucketName), \(producing))
            ON CONFLICT (replica_id) DO NOTHING RETURNING replica_id
            """, logger: logger
        ).all()
        return !rows.isEmpty
    }

    /// Numbers a visible replica that has no number yet, next in its chain. The chain's advisory lock, held to commit,
    /// keeps two nodes from taking one number.
    private static func number(_ replica: Replica, connection: PostgresConnection, logger: Logger) async throws -> Int {
        let chain = "replica-chain:\(replica.layerId):\(replica.geometryType.rawValue):\(replica.replicaType.rawValue)"
        try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(chain)))", logger: logger)
        let rows = try await connection.query(
            """
            UPDATE replicas SET sequence_number = (SELECT COALESCE(MAX(c.sequence_number), 0) + 1 FROM replicas c
              WHERE c.layer_id = replicas.layer_id AND c.geometry_type = replicas.geometry_type AND c.replica_type = replicas.replica_type)
            WHERE replica_id = \(replica.replicaId.uuidString.lowercased()) AND NOT is_hidden AND sequence_number = 0
            RETURNING sequence_number
            """, logger: logger
        ).all()
        return try rows.first.map { try $0["sequence_number"].decode(Int.self) } ?? replica.sequenceNumber
    }

    public func insertHiddenReplica(_ replica: Replica) async throws {
        guard try await Self.insert(replica, producing: true, on: database, logger: logger) else {
            throw ServiceError(.conflict, "replica with id \(replica.replicaId.uuidString.lowercased()) already exists")
        }
    }

    public func publishReplica(_ replica: Replica, notice: ReplicaNotice?) async throws -> Replica {
        let logger = self.logger
        return try await database.transaction { connection in
            try await connection.query(
                """
                UPDATE replicas SET is_hidden = false, producing = false, files = \(ReplicaFile.storedText(replica.files)),
                  layer_hash = \(replica.layerHash), linked_sequence = \(replica.linkedSequence) WHERE replica_id = \(replica.replicaId.uuidString.lowercased())
                """,
                logger: logger
            )
            var published = replica
            published.isHidden = false
            published.sequenceNumber = try await Self.number(published, connection: connection, logger: logger)
            if let notice { try await Self.queueDeliveries(of: published, notice: notice, connection: connection, logger: logger) }
            return published
        }
    }

    /// One outbox row per subscription that wants the replica (export webhooks' table, task 0: no task's).
    private static func queueDeliveries(of replica: Replica, notice: ReplicaNotice, connection: PostgresConnection, logger: Logger) async throws {
        let subscriptions = try await connection.query("SELECT * FROM layer_subscriptions WHERE layer_id = \(replica.layerId)", logger: logger).all()
            .map { try LayerSubscription(row: PostgresStoredRow(row: $0, table: "layer_subscriptions")) }
            .filter { $0.wants(replica.geometryType) }
        guard !subscriptions.isEmpty else { return }
        let body = notice.message(replica)
        for subscription in subscriptions {
            try await connection.query(
                """
                INSERT INTO webhook_deliveries (id, task_id, event, url, secret, body, state, attempts, next_attempt_at, created_at, expires_at)
                VALUES (\(UUID().uuidString.lowercased()), 0, 'REPLICA_PUBLISHED', \(subscription.url), \(subscription.secret), \(body), 'PENDING', 0,
                  \(Timestamp.string(notice.now)), \(Timestamp.string(notice.now)), \(Timestamp.string(notice.expires)))
                """, logger: logger
            )
        }
    }

    public func createSubscription(_ subscription: LayerSubscription) async throws {
        try await database.query(
            """
            INSERT INTO layer_subscriptions (id, layer_id, subscriber, url, secret, geometry_types, created_at)
            VALUES (\(subscription.id.uuidString.lowercased()), \(subscription.layerId), \(subscription.subscriber), \(subscription.url),
              \(subscription.secret), \(subscription.geometryTypes.map(\.rawValue).joined(separator: ",")), \(Timestamp.string(subscription.createdAt)))
            """, logger: logger
        )
    }

    public func subscriptions(layerId: Int, subscriber: String) async throws -> [LayerSubscription] {
        try await database.query(
            "SELECT * FROM layer_subscriptions WHERE layer_id = \(layerId) AND subscriber = \(subscriber) ORDER BY created_at, id", logger: logger
        ).all().map { try LayerSubscription(row: PostgresStoredRow(row: $0, table: "layer_subscriptions")) }
    }

    public func deleteSubscription(id: UUID, layerId: Int, subscriber: String) async throws -> Bool {
        !(try await database.query(
            """
            DELETE FROM layer_subscriptions WHERE id = \(id.uuidString.lowercased()) AND layer_id = \(layerId) AND subscriber = \(subscriber) RETURNING id
            """, logger: logger
        ).all()).isEmpty
    }

    public func changeSequence(layerId: Int, at time: Date) async throws -> Int {
        let rows = try await database.query(
            "SELECT COALESCE(MAX(sequence), 0) AS n FROM layer_changes WHERE layer_id = \(layerId) AND timestamp <= \(Timestamp.string(time))",
            logger: logger
        ).all()
        return try rows.first.map { try $0["n"].decode(Int.self) } ?? 0
    }

    public func changeTime(layerId: Int, sequence: Int) async throws -> Date? {
        let rows = try await database.query(
            "SELECT timestamp FROM layer_changes WHERE layer_id = \(layerId) AND sequence = \(sequence)", logger: logger
        ).all()
        return try rows.first.map { try $0["timestamp"].decode(String.self) }.flatMap(Timestamp.rfc3339)
    }

    public func windowDelta(key: String) async throws -> WindowDelta? {
        try await Self.windows(database.query("SELECT * FROM window_deltas WHERE key = \(key)", logger: logger)).first
    }

    public func windowDelta(buildId: UUID) async throws -> WindowDelta? {
        try await Self.windows(database.query("SELECT * FROM window_deltas WHERE build_id = \(buildId.uuidString.lowercased())", logger: logger)).first
    }

    public func insertWindowDelta(_ delta: WindowDelta) async throws -> WindowDelta {
        try await database.query(
            """
            INSERT INTO window_deltas (key, build_id, layer_id, geometry_type, from_change_sequence, change_sequence, bbox, files, created_at)
            VALUES (\(delta.key), \(delta.buildId.uuidString.lowercased()), \(delta.layerId), \(delta.geometryType.rawValue), \(delta.fromChangeSequence),
              \(delta.changeSequence), \(WindowDelta.bboxText(delta.bbox)), \(ReplicaFile.storedText(delta.files)), \(Timestamp.string(delta.createdAt)))
            ON CONFLICT (key) DO NOTHING
            """, logger: logger
        )
        return try await windowDelta(key: delta.key) ?? delta
    }

    public func pruneWindowDeltas(before time: Date) async throws -> [WindowDelta] {
        try await Self.windows(database.query("DELETE FROM window_deltas WHERE created_at < \(Timestamp.string(time)) RETURNING *", logger: logger))
    }

    private static func windows(_ rows: PostgresRowSequence) async throws -> [WindowDelta] {
        try await rows.all().map { try WindowDelta(row: PostgresStoredRow(row: $0, table: "window_deltas")) }
    }

    public func pruneReplicas(layerId: Int, type: GeometryType, before: Date) async throws -> [Replica] {
        let logger = self.logger
        return try await database.transaction { connection in
            let removed = try await Self.replicas(
                connection.query(
                    """
                    DELETE FROM replicas WHERE layer_id = \(layerId) AND geometry_type = \(type.rawValue) AND origin = 'produced' AND NOT is_hidden
                      AND NOT producing AND timestamp < \(Timestamp.string(before))
                      AND sequence_number < (SELECT MAX(c.sequence_number) FROM replicas c WHERE c.layer_id = replicas.layer_id
                        AND c.geometry_type = replicas.geometry_type AND c.replica_type = replicas.replica_type)
                    RETURNING \(unescaped: Self.replicaColumns)
                    """, logger: logger
                ),
                files: nil
            )
            for replicaType in ReplicaType.allCases {
                guard let highest = removed.filter({ $0.replicaType == replicaType }).map(\.sequenceNumber).max() else { continue }
                try await connection.query(
                    """
                    INSERT INTO replica_pruning VALUES (\(layerId), \(type.rawValue), \(replicaType.rawValue), \(highest))
                    ON CONFLICT (layer_id, geometry_type, replica_type)
                    DO UPDATE SET pruned_through = GREATEST(replica_pruning.pruned_through, EXCLUDED.pruned_through)
                    """, logger: logger
                )
            }
            return removed
        }
    }

    public func prunedThrough(layerId: Int, type: GeometryType, replicaType: ReplicaType) async throws -> Int {
        let rows = try await database.query(
            """
            SELECT pruned_through FROM replica_pruning WHERE layer_id = \(layerId) AND geometry_type = \(type.rawValue)
              AND replica_type = \(replicaType.rawValue)
            """, logger: logger
        ).all()
        return try rows.first.map { try $0["pruned_through"].decode(Int.self) } ?? 0
    }

    public func pruneHistory(layerId: Int, through sequence: Int) async throws -> Int {
        let logger = self.logger
        return try await database.transaction { connection in
            let rows = try await connection.query(
                """
                WITH removed AS (DELETE FROM feature_versions v WHERE v.layer_id = \(layerId) AND v.sequence <= \(sequence) AND (v.geometry IS NULL
                  OR EXISTS (SELECT 1 FROM feature_versions n WHERE n.layer_id = v.layer_id AND n.feature_id = v.feature_id
                    AND n.sequence > v.sequence AND n.sequence <= \(sequence))) RETURNING 1)
                SELECT count(*) AS n FROM removed
                """, logger: logger
            ).all()
            try await connection.query(
                "UPDATE layers SET history_from = GREATEST(history_from, \(sequence)) WHERE layer_id = \(layerId)", logger: logger
            )
            return try rows.first.map { try $0["n"].decode(Int.self) } ?? 0
        }
    }

    public func deleteReplica(id: UUID) async throws {
        try await database.query("DELETE FROM replicas WHERE replica_id = \(id.uuidString.lowercased())", logger: logger)
    }

    public func removeHiddenReplicas(now: Date) async throws -> [Replica] {
        try await Self.replicas(
            database.query(
                """
                DELETE FROM replicas WHERE producing AND NOT EXISTS (SELECT 1 FROM replica_chain_leases l WHERE l.layer_id = replicas.layer_id
                  AND l.geometry_type = replicas.geometry_type AND l.expires_at > \(Timestamp.string(now))) RETURNING \(unescaped: Self.replicaColumns)
                """, logger: logger
            ),
            files: nil
        )
    }

    public func acquireChain(layerId: Int, type: GeometryType, owner: String, until: Date, now: Date) async throws -> Bool {
        !(try await database.query(
            """
            INSERT INTO replica_chain_leases (layer_id, geometry_type, owner, expires_at)
            VALUES (\(layerId), \(type.rawValue), \(owner), \(Timestamp.string(until)))
            ON CONFLICT (layer_id, geometry_type) DO UPDATE SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at
            WHERE replica_chain_leases.owner = EXCLUDED.owner OR replica_chain_leases.expires_at <= \(Timestamp.string(now))
            RETURNING owner
            """, logger: logger
        ).all()).isEmpty
    }

    public func releaseChain(layerId: Int, type: GeometryType, owner: String) async throws {
        try await database.query(
            "DELETE FROM replica_chain_leases WHERE layer_id = \(layerId) AND geometry_type = \(type.rawValue) AND owner = \(owner)", logger: logger
        )
    }

    public func replicas(_ query: ReplicaQuery) async throws -> [Replica] {
        var binds = PostgresBindings()
        func bind(_ value: some PostgresNonThrowingEncodable & Sendable) -> String {
            binds.append(value)
            return "$\(binds.count)"
        }
        var sql = """
            SELECT \(Self.replicaColumns) FROM replicas WHERE NOT is_hidden AND layer_id = \(bind(query.layerId)) AND geometry_type = \(bind(query.geometryType.rawValue))
              AND replica_type = \(bind(query.replicaType.rawValue))
            """
        if let from = query.exclusiveFrom { sql += " AND timestamp > \(bind(Timestamp.string(from)))" }
        if let to = query.to { sql += " AND timestamp <= \(bind(Timestamp.string(to)))" }
        if let after = query.afterSequence { sql += " AND sequence_number > \(bind(after))" }
        if let cursor = query.page?.after {
            let id = cursor.replicaId.uuidString.lowercased()
            if query.afterSequence != nil {
                sql += " AND (sequence_number, replica_id) > (\(bind(cursor.sequenceNumber)), \(bind(id)))"
            } else {
                sql += " AND (timestamp, sequence_number, replica_id) \(query.ascending ? ">" : "<") "
                    + "(\(bind(Timestamp.string(cursor.timestamp))), \(bind(cursor.sequenceNumber)), \(bind(id)))"
            }
        }
        sql += query.orderAndLimitSQL
        return try await Self.replicas(database.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger), files: database)
    }

    public func latestReplica(layerId: Int, type: GeometryType, replicaType: ReplicaType, origin: ReplicaOrigin?) async throws -> Replica? {
        try await Self.replicas(
            database.query(
                """
                SELECT \(unescaped: Self.replicaColumns) FROM replicas WHERE layer_id = \(layerId) AND geometry_type = \(type.rawValue) AND replica_type = \(replicaType.rawValue)
                  AND NOT is_hidden AND (\(origin?.rawValue)::text IS NULL OR origin = \(origin?.rawValue))
                ORDER BY timestamp DESC, sequence_number DESC LIMIT 1
                """, logger: logger
            ),
            files: database
        ).first
    }

    public func replica(id: UUID) async throws -> Replica? {
        try await Self.replicas(
            database.query("SELECT \(unescaped: Self.replicaColumns) FROM replicas WHERE replica_id = \(id.uuidString.lowercased()) AND NOT is_hidden", logger: logger), files: database
        ).first
    }

    // MARK: The registry

    public func registerReplica(_ replica: Replica) async throws -> Bool {
        try await Self.insert(replica, producing: false, on: database, logger: logger)
    }

    public func registryReplicas(_ selection: ReplicaSelection) async throws -> [Replica] {
        var sql = Self.selecting(selection, "SELECT \(Self.replicaColumns) FROM replicas")
        sql.sql += " ORDER BY timestamp, sequence_number"
        return try await Self.replicas(database.query(sql, logger: logger), files: database)
    }

    public func updateRegistryFields(_ replicas: [Replica]) async throws {
        let logger = self.logger
        try await database.transaction { connection in
            for replica in replicas {
                try await connection.query(
                    """
                    UPDATE replicas SET timestamp = \(Timestamp.string(replica.timestamp)), layer_id = \(replica.layerId),
                      geometry_type = \(replica.geometryType.rawValue), replica_type = \(replica.replicaType.rawValue),
                      bucket_name = \(replica.bucketName), is_hidden = \(replica.isHidden), sequence_number = \(replica.sequenceNumber)
                    WHERE replica_id = \(replica.replicaId.uuidString.lowercased()) AND NOT producing
                    """, logger: logger
                )
                // Visible and not numbered (published now, or moved to another chain): next in its chain.
                if !replica.isHidden && replica.sequenceNumber == 0 { _ = try await Self.number(replica, connection: connection, logger: logger) }
            }
        }
    }

    public func deleteReplicas(_ selection: ReplicaSelection) async throws -> [Replica] {
        let logger = self.logger
        return try await database.transaction { connection in
            // Files first (they go with their replica by cascade).
            var select = Self.selecting(selection, "SELECT \(Self.replicaColumns) FROM replicas")
            select.sql += " ORDER BY timestamp, sequence_number FOR UPDATE"
            let rows = try await connection.query(select, logger: logger).all()
            let selected = try await Self.attachFiles(
                try rows.map { try Replica(row: PostgresStoredRow(row: $0, table: "replicas")) }, logger: logger
            ) { try await connection.query($0, logger: logger) }
            try await connection.query(Self.selecting(selection, "DELETE FROM replicas"), logger: logger)
            return selected
        }
    }

    public func addRegisteredFile(_ fileId: UUID, replicaId: UUID) async throws -> FileRegistrationOutcome {
        let logger = self.logger
        let replica = replicaId.uuidString.lowercased()
        let file = fileId.uuidString.lowercased()
        return try await database.transaction { connection in
            // The replica's row is held until commit, so a concurrent delete cannot leave a file without one.
            let exists = try await connection.query(
                "SELECT 1 FROM replicas WHERE replica_id = \(replica) AND NOT producing FOR SHARE", logger: logger
            ).all()
            guard !exists.isEmpty else { return .noSuchReplica }
            let inserted = try await connection.query(
                """
                INSERT INTO registered_files (file_id, replica_id, position)
                VALUES (\(file), \(replica), (SELECT COALESCE(MAX(position), 0) + 1 FROM registered_files WHERE replica_id = \(replica)))
                ON CONFLICT (file_id) DO NOTHING RETURNING file_id
                """, logger: logger
            ).all()
            return inserted.isEmpty ? .fileIdTaken : .added
        }
    }

    /// `statement` limited to the rows a registry selection names: never a replica being produced.
    private static func selecting(_ selection: ReplicaSelection, _ statement: String) -> PostgresQuery {
        var id: String?
        var filter = ReplicaFilter()
        switch selection {
        case .id(let value): id = value.uuidString.lowercased()
        case .filter(let value): filter = value
        }
        let from = filter.exclusiveFrom.map(Timestamp.string)
        let to = filter.to.map(Timestamp.string)
        var query: PostgresQuery = """
             WHERE NOT producing AND (\(id)::text IS NULL OR replica_id = \(id))
              AND (\(filter.replicaType?.rawValue)::text IS NULL OR replica_type = \(filter.replicaType?.rawValue))
              AND (\(filter.geometryType?.rawValue)::text IS NULL OR geometry_type = \(filter.geometryType?.rawValue))
              AND (\(filter.layerId)::bigint IS NULL OR layer_id = \(filter.layerId))
              AND (\(filter.isHidden)::boolean IS NULL OR is_hidden = \(filter.isHidden))
              AND (\(from)::text IS NULL OR timestamp > \(from)) AND (\(to)::text IS NULL OR timestamp <= \(to))
            """
        query.sql = statement + query.sql
        return query
    }

    /// Replica rows, with the files registered to the registered ones (one more query, only when there are some).
    private static func replicas(_ rows: PostgresRowSequence, files database: PostgresDatabase?) async throws -> [Replica] {
        let replicas = try await rows.all().map { try Replica(row: PostgresStoredRow(row: $0, table: "replicas")) }
        guard let database else { return replicas }
        return try await attachFiles(replicas, logger: database.logger) { try await database.query($0, logger: database.logger) }
    }

    private static func attachFiles(
        _ replicas: [Replica], logger: Logger, query: (PostgresQuery) async throws -> PostgresRowSequence
    ) async throws -> [Replica] {
        let ids = replicas.filter { $0.origin == .registered }.map { $0.replicaId.uuidString.lowercased() }
        guard !ids.isEmpty else { return replicas }
        var files: [String: [UUID]] = [:]
        for try await (replica, file) in try await query(
            "SELECT replica_id, file_id FROM registered_files WHERE replica_id = ANY(\(ids)) ORDER BY position"
        ).decode((String, String).self) {
            guard let id = UUID(uuidString: file) else { throw CorruptRow(table: "registered_files", column: "file_id", value: file) }
            files[replica, default: []].append(id)
        }
        return replicas.map { replica in
            var result = replica
            if replica.origin == .registered { result.registeredFiles = files[replica.replicaId.uuidString.lowercased()] ?? [] }
            return result
        }
    }
}
