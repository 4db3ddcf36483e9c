import Foundation
import GRDB
import GeoJSON
import GeoPackage
import JSONValues
import MapDepotCore
import ReplicationClient
import ReplicationCore

/// A local copy in a features GeoPackage (issue #14): one features table (`fid`, `geom` as standard GeoPackage
/// geometry blobs with an R-tree index, `feature_id`, `properties` as canonical JSON, and one column per property whose
/// key and type are stable across the first snapshot), plus the `mapdepot_sync` attributes table holding the cursor.
/// Every replica is one SQLite transaction with its cursor row, so a kill at any point leaves the last whole replica.
public struct GeoPackageMirror: MirrorTarget {
    let queue: DatabaseQueue
    let table: String
    let crashPoints: CrashPoints

    /// The cursor's table: one row.
    static let syncTable = "mapdepot_sync"
    /// Names a property column may not take (the table's own columns).
    static let reserved: Set<String> = ["fid", "geom", "feature_id", "properties"]
    /// More property columns than this and the properties stay in the JSON column only.
    static let maxColumns = 100

    /// Opens (or creates) the GeoPackage at `path`; `table` names the features table (made on the first snapshot).
    public init(path: String, table: String, crashPoints: CrashPoints = .none) throws {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.label = "mirror"
        // Readers of the copy (QGIS, ogrinfo, a status call) hold the file briefly; a replica waits for them instead of
        // failing with SQLITE_BUSY.
        configuration.busyMode = .timeout(30)
        configuration.prepareDatabase { db in GeoPackageFeatures.addFunctions(db) }
        queue = try DatabaseQueue(path: path, configuration: configuration)
        self.table = table
        self.crashPoints = crashPoints
        try queue.write { db in
            try GeoPackageFeatures.prepare(db)
            if try !db.tableExists(Self.syncTable) {
                try db.execute(
                    sql: """
                        CREATE TABLE \(Self.syncTable) (id INTEGER PRIMARY KEY CHECK (id = 1), table_name TEXT NOT NULL, layer_id INTEGER NOT NULL,
                          geometry_type TEXT NOT NULL, source_id TEXT, change_sequence INTEGER NOT NULL, delta_sequence INTEGER NOT NULL,
                          snapshot_sequence INTEGER, layer_hash TEXT, replica_timestamp TEXT, property_columns TEXT NOT NULL, synced_at TEXT NOT NULL)
                        """
                )
                try GeoPackageFeatures.registerAttributes(db, table: Self.syncTable, description: "mapdepot replicate: where this copy stands")
            }
        }
    }

    public func cursor() async throws -> MirrorCursor? {
        try await queue.read { db in try Self.cursor(db) }
    }

    static func cursor(_ db: Database) throws -> MirrorCursor? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM \(syncTable) WHERE id = 1") else { return nil }
        guard let type = GeometryType(rawValue: row["geometry_type"]) else { throw SyncError.protocolViolation("the local copy's geometry type is unknown") }
        return MirrorCursor(
            layerId: row["layer_id"], geometryType: type, sourceId: (row["source_id"] as String?).flatMap(UUID.init(uuidString:)),
            changeSequence: row["change_sequence"], deltaSequence: row["delta_sequence"], snapshotSequence: row["snapshot_sequence"],
            layerHash: row["layer_hash"], replicaTimestamp: (row["replica_timestamp"] as String?).flatMap(Timestamp.rfc3339)
        )
    }

    public func replace(with content: ReplicaContent, cursor: MirrorCursor) async throws {
        let table = self.table
        let crashPoints = self.crashPoints
        try await queue.write { db in
            var columns: [GeoPackageFeatures.Column]
            if try db.tableExists(table) {
                columns = try Self.propertyColumns(db)
                try db.execute(sql: "DELETE FROM \(Self.quoted(table))")
            } else {
                columns = Self.stableColumns(content.upserts)
                try Self.createTable(db, table: table, cursor: cursor, columns: columns)
            }
            // A bulk load: the R-tree is filled once at the end instead of by a trigger per row.
            try GeoPackageFeatures.dropTriggers(db, table: table)
            var hash = LayerHash()
            let insert = try db.cachedStatement(sql: Self.insertSQL(table: table, columns: columns))
            for (index, feature) in content.upserts.enumerated() {
                try insert.execute(arguments: StatementArguments(Self.values(feature, columns: columns)))
                crashPoints.check("sync-apply", reached: index + 1)
            }
            hash.combine(content.upsertHash)
            try GeoPackageRTree.rebuild(db, table: table)
            try GeoPackageFeatures.createTriggers(db, table: table)
            try cursor.check(hash)
            try Self.store(cursor, columns: columns, table: table, db)
            try GeoPackageFeatures.updateContents(db, table: table, lastChange: Date())
        }
    }

    public func apply(_ content: ReplicaContent, cursor: MirrorCursor) async throws {
        let table = self.table
        let crashPoints = self.crashPoints
        try await queue.write { db in
            // A copy that started empty (no snapshot on the server yet) has no cursor before its first delta.
            let before = try Self.cursor(db) ?? .empty(layerId: cursor.layerId, geometryType: cursor.geometryType)
            var columns = try Self.propertyColumns(db)
            if try !db.tableExists(table) {
                // ... and its table is made by that delta, with the columns its features suggest.
                columns = Self.stableColumns(content.upserts)
                try Self.createTable(db, table: table, cursor: cursor, columns: columns)
            }
            try Self.apply(content, cursor: cursor, before: before, columns: columns, table: table, crashPoints: crashPoints, db)
        }
    }

    private static func apply(
        _ content: ReplicaContent, cursor: MirrorCursor, before: MirrorCursor, columns: [GeoPackageFeatures.Column], table: String,
        crashPoints: CrashPoints, _ db: Database
    ) throws {
        var hash = before.layerHash.flatMap(LayerHash.init(hex:))
        let q = quoted(table)
        // The stored rows of every id the replica touches, looked up 500 at a time (one statement per id was most of an
        // apply's time).
        var existing: [String: (fid: Int64, geom: Data, properties: String?)] = [:]
        let ids = content.deletions + content.upserts.map(\.state.id)
        for start in stride(from: 0, to: ids.count, by: 500) {
            let chunk = Array(ids[start..<min(ids.count, start + 500)])
            let marks = repeatElement("?", count: chunk.count).joined(separator: ",")
            let rows = try Row.fetchCursor(
                db, sql: "SELECT feature_id, fid, geom, properties FROM \(q) WHERE feature_id IN (\(marks))", arguments: StatementArguments(chunk)
            )
            while let row = try rows.next() { existing[row["feature_id"]] = (row["fid"], row["geom"], row["properties"]) }
        }
        // A replica that touches a quarter of the copy or more rebuilds the R-tree in one packed pass afterwards (a first
        // delta into an empty copy, a large change); a smaller one keeps it row by row.
        let held = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(quoted("rtree_\(table)_geom_rowid"))") ?? 0
        let rebuild = ids.count * 4 >= held
        let delete = try db.cachedStatement(sql: "DELETE FROM \(q) WHERE fid = ?")
        let insert = try db.cachedStatement(sql: insertSQL(table: table, columns: columns))
        let update = try db.cachedStatement(
            sql: "UPDATE \(q) SET geom = ?, properties = ?\(columns.map { ", \(quoted($0.name)) = ?" }.joined()) WHERE fid = ?"
        )
        // The R-tree is kept by these statements, with the envelopes already at hand, instead of by the triggers' five
        // SQL function calls per row; the triggers are back before the transaction commits, for every other writer.
        try GeoPackageFeatures.dropTriggers(db, table: table)
        let rtree = quoted("rtree_\(table)_geom")
        let index = try db.cachedStatement(sql: "INSERT OR REPLACE INTO \(rtree) VALUES (?, ?, ?, ?, ?)")
        let unindex = try db.cachedStatement(sql: "DELETE FROM \(rtree) WHERE id = ?")
        func reindex(_ fid: Int64, _ geometry: GeoJSONGeometry) throws {
            guard !rebuild else { return }
            if let box = GeoPackageGeometry.envelope(geometry) {
                try index.execute(arguments: [fid, box.minX, box.maxX, box.minY, box.maxY])
            } else {
                try unindex.execute(arguments: [fid])
            }
        }
        var written = 0
        /// The stored row's fid, its state's hash taken out; nil when the copy does not hold the id (any more).
        func stored(_ id: String) throws -> Int64? {
            guard let row = existing.removeValue(forKey: id) else { return nil }
            if hash != nil {
                let geometry = try GeoPackageGeometry.geometry([UInt8](row.geom))
                let state = FeatureState(
                    id: id, geometryType: GeometryType(geometry), geometry: CanonicalJSON.text(geometry), properties: row.properties ?? "{}"
                )
                hash?.toggle(state.featureText())
            }
            return row.fid
        }
        for id in content.deletions {
            if let fid = try stored(id) {
                try delete.execute(arguments: [fid])
                if !rebuild { try unindex.execute(arguments: [fid]) }
            }
            written += 1
            crashPoints.check("sync-apply", reached: written)
        }
        for feature in content.upserts {
            var values = values(feature, columns: columns)
            if let fid = try stored(feature.state.id) {
                values.removeFirst()  // feature_id is unchanged
                values.append(fid)
                try update.execute(arguments: StatementArguments(values))
                try reindex(fid, feature.geometry)
            } else {
                try insert.execute(arguments: StatementArguments(values))
                try reindex(db.lastInsertedRowID, feature.geometry)
            }
            written += 1
            crashPoints.check("sync-apply", reached: written)
        }
        if rebuild { try GeoPackageRTree.rebuild(db, table: table) }
        try GeoPackageFeatures.createTriggers(db, table: table)
        hash?.combine(content.upsertHash)
        if let hash { try cursor.check(hash) }
        try store(cursor, columns: columns, table: table, db)
        try GeoPackageFeatures.updateContents(db, table: table, lastChange: Date())
    }

    public func storedFeatures() async throws -> [String: String] {
        let table = self.table
        return try await queue.read { db in
            var features: [String: String] = [:]
            guard try db.tableExists(table) else { return features }
            let rows = try Row.fetchCursor(db, sql: "SELECT feature_id, geom, properties FROM \(Self.quoted(table))")
            while let row = try rows.next() {
                let blob: Data = row["geom"]
                let geometry = try GeoPackageGeometry.geometry([UInt8](blob))
                let id: String = row["feature_id"]
                features[id] = FeatureState(
                    id: id, geometryType: GeometryType(geometry), geometry: CanonicalJSON.text(geometry), properties: row["properties"] ?? "{}"
                ).featureText()
            }
            return features
        }
    }

    public func count() async throws -> Int {
        let table = self.table
        return try await queue.read { db in try db.tableExists(table) ? Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(Self.quoted(table))") ?? 0 : 0 }
    }

    // MARK: - Rows

    static func store(_ cursor: MirrorCursor, columns: [GeoPackageFeatures.Column], table: String, _ db: Database) throws {
        let columnsText = CanonicalJSON.text(.array(columns.map { .array([.string($0.name), .string($0.type)]) }))
        try db.execute(
            sql: """
                INSERT OR REPLACE INTO \(syncTable) (id, table_name, layer_id, geometry_type, source_id, change_sequence, delta_sequence,
                  snapshot_sequence, layer_hash, replica_timestamp, property_columns, synced_at) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                table, cursor.layerId, cursor.geometryType.rawValue, cursor.sourceId?.uuidString.lowercased(), cursor.changeSequence,
                cursor.deltaSequence, cursor.snapshotSequence, cursor.layerHash, cursor.replicaTimestamp.map(Timestamp.string), columnsText,
                Timestamp.string(Date()),
            ]
        )
    }

    static func propertyColumns(_ db: Database) throws -> [GeoPackageFeatures.Column] {
        guard let text = try String.fetchOne(db, sql: "SELECT property_columns FROM \(syncTable) WHERE id = 1") else { return [] }
        return (try JSONValue.parse(Data(text.utf8)).arrayValue ?? []).compactMap { pair in
            guard let items = pair.arrayValue, items.count == 2, let name = items[0].stringValue, let type = items[1].stringValue else { return nil }
            return GeoPackageFeatures.Column(name: name, type: type)
        }
    }

    /// The property keys every feature of the first snapshot has with one scalar type: they become columns.
    static func stableColumns(_ features: [MirrorFeature]) -> [GeoPackageFeatures.Column] {
        guard let first = features.first else { return [] }
        var types: [String: String] = [:]
        for (key, value) in first.properties where !reserved.contains(key.lowercased()) {
            if let type = columnType(value) { types[key] = type }
        }
        for feature in features.dropFirst() where !types.isEmpty {
            for (key, type) in types where feature.properties[key].flatMap(columnType) != type {
                types[key] = nil
            }
        }
        let lowered = Dictionary(grouping: types.keys, by: { $0.lowercased() })
        return types.keys.filter { lowered[$0.lowercased()]!.count == 1 }.sorted().prefix(maxColumns).map {
            GeoPackageFeatures.Column(name: $0, type: types[$0]!)
        }
    }

    static func columnType(_ value: JSONValue) -> String? {
        switch value {
        case .string: "TEXT"
        case .number: "DOUBLE"
        case .bool: "BOOLEAN"
        default: nil
        }
    }

    static func insertSQL(table: String, columns: [GeoPackageFeatures.Column]) -> String {
        let names = ["feature_id", "geom", "properties"] + columns.map(\.name)
        return "INSERT INTO \(quoted(table)) (\(names.map(quoted).joined(separator: ", "))) VALUES (\(names.map { _ in "?" }.joined(separator: ", ")))"
    }

    /// feature_id, geom, properties, then each property column's value (NULL when absent or not a scalar).
    static func values(_ feature: MirrorFeature, columns: [GeoPackageFeatures.Column]) -> [(any DatabaseValueConvertible)?] {
        var values: [(any DatabaseValueConvertible)?] = [
            feature.state.id, Data(GeoPackageGeometry.blob(feature.geometry)), feature.state.properties,
        ]
        for column in columns {
            switch feature.properties[column.name] {
            case .string(let text)?: values.append(text)
            case .number(let number)?: values.append(number)
            case .bool(let flag)?: values.append(flag)
            default: values.append(nil)
            }
        }
        return values
    }

    /// The features table: `feature_id`, `properties` and the property columns. Each geometry type holds its Multi* too
    /// (``GeometryType``), so the geometry column is declared as the general `GEOMETRY`.
    static func createTable(_ db: Database, table: String, cursor: MirrorCursor, columns: [GeoPackageFeatures.Column]) throws {
        try GeoPackageFeatures.createTable(
            db, table: table, geometryTypeName: "GEOMETRY",
            columns: [.init(name: "feature_id", type: "TEXT", notNull: true, unique: true), .init(name: "properties", type: "TEXT")] + columns,
            description: "layer \(cursor.layerId) \(cursor.geometryType.rawValue), replicated by mapdepot"
        )
    }

    static func quoted(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
