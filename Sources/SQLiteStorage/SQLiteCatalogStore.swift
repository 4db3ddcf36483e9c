import ExportCore
import MapDepotCore
import Foundation
import GRDB

/// Catalog records in SQLite, each as its JSON.
public struct SQLiteCatalogStore: CatalogStore {
    private let database: SQLiteDatabase

    public init(database: SQLiteDatabase) {
        self.database = database
    }

    public func insert(_ record: CatalogRecord) async throws {
        let id = record.id.uuidString.lowercased()
        let body = CanonicalJSON.text(record.json)
        let createdAt = Timestamp.string(record.createdAt)
        try await database.pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM catalog_records WHERE id = ?", arguments: [id]) == true {
                throw ServiceError(.conflict, "catalog record \(id) exists already")
            }
            try db.execute(
                sql: "INSERT INTO catalog_records (id, body, created_at) VALUES (?, ?, ?)",
                arguments: [id, body, createdAt]
            )
        }
    }

    public func record(id: UUID) async throws -> CatalogRecord? {
        let body = try await database.pool.read { db in
            try String.fetchOne(db, sql: "SELECT body FROM catalog_records WHERE id = ?", arguments: [id.uuidString.lowercased()])
        }
        return try body.map { try CatalogRecord(stored: CanonicalJSON.parse($0)) }
    }

    public func records() async throws -> [CatalogRecord] {
        let bodies = try await database.pool.read { db in
            try String.fetchAll(db, sql: "SELECT body FROM catalog_records ORDER BY created_at, id")
        }
        return try bodies.map { try CatalogRecord(stored: CanonicalJSON.parse($0)) }
    }

    public func delete(id: UUID) async throws -> Bool {
        try await database.pool.write { db in
            try db.execute(sql: "DELETE FROM catalog_records WHERE id = ?", arguments: [id.uuidString.lowercased()])
            return db.changesCount > 0
        }
    }
}
