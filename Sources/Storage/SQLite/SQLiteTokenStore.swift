import ExportCore
import MapDepotCore
import Foundation
import GRDB

/// API tokens in SQLite, by SHA-256.
public struct SQLiteTokenStore: TokenStore {
    private let database: SQLiteDatabase

    public init(database: SQLiteDatabase) {
        self.database = database
    }

    public func insert(_ token: StoredToken) async throws {
        let scopes = token.scopes.map(\.rawValue).sorted().joined(separator: " ")
        try await database.pool.write { db in
            try db.execute(
                sql: "INSERT INTO tokens (hash, subject, scopes, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [
                    token.hash, token.subject, scopes, Timestamp.string(token.createdAt),
                    token.expiresAt.map(Timestamp.string),
                ]
            )
        }
    }

    public func token(hash: String) async throws -> StoredToken? {
        let row = try await database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM tokens WHERE hash = ?", arguments: [hash])
        }
        guard let row else { return nil }
        let scopes: String = row["scopes"]
        let expires: String? = row["expires_at"]
        return StoredToken(
            hash: row["hash"],
            subject: row["subject"],
            scopes: Set(scopes.split(separator: " ").compactMap { Scope(rawValue: String($0)) }),
            createdAt: Timestamp.parse(row["created_at"]) ?? Date(timeIntervalSince1970: 0),
            expiresAt: expires.flatMap(Timestamp.parse)
        )
    }
}
