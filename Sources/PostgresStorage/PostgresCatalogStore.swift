import ExportCore
import Foundation
import MapDepotCore
import PostgresNIO

/// Catalog records in PostgreSQL, each as its JSON.
public struct PostgresCatalogStore: CatalogStore {
    let database: PostgresDatabase

    public init(database: PostgresDatabase) {
        self.database = database
    }

    public func insert(_ record: CatalogRecord) async throws {
        let id = record.id.uuidString.lowercased()
        let body = CanonicalJSON.text(record.json)
        let rows = try await database.query(
            """
            INSERT INTO catalog_records (id, body, created_at) VALUES (\(id), \(body), \(Timestamp.string(record.createdAt)))
            ON CONFLICT (id) DO NOTHING RETURNING id
            """,
            logger: database.logger
        ).all()
        guard !rows.isEmpty else { throw ServiceError(.conflict, "catalog record \(id) exists already") }
    }

    public func record(id: UUID) async throws -> CatalogRecord? {
        let rows = try await database.query(
            "SELECT body FROM catalog_records WHERE id = \(id.uuidString.lowercased())", logger: database.logger
        ).all()
        return try rows.first.map { try CatalogRecord(stored: CanonicalJSON.parse(try $0.string("body"))) }
    }

    public func records() async throws -> [CatalogRecord] {
        try await database.query("SELECT body FROM catalog_records ORDER BY created_at, id", logger: database.logger).all()
            .map { try CatalogRecord(stored: CanonicalJSON.parse(try $0.string("body"))) }
    }

    public func delete(id: UUID) async throws -> Bool {
        !(try await database.query(
            "DELETE FROM catalog_records WHERE id = \(id.uuidString.lowercased()) RETURNING id", logger: database.logger
        ).all()).isEmpty
    }
}
