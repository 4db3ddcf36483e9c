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

    /// Rows are decoded inside the read: `Row` is not `Sendable`, and a closure returning it made Swift pick
    /// GRDB's *synchronous* `read`, which blocked a cooperative thread per authenticated request until a reader
    /// was free — eight concurrent clients deadlocked the server (issue #9). `StoredToken` is `Sendable`, so this
    /// is the async `read`, which waits off the cooperative pool.
    public func token(hash: String) async throws -> StoredToken? {
        try await database.pool.read { db -> StoredToken? in
            try Row.fetchOne(db, sql: "SELECT * FROM tokens WHERE hash = ?", arguments: [hash]).map(Self.token)
        }
    }

    public func tokens() async throws -> [StoredToken] {
        try await database.pool.read { db -> [StoredToken] in
            try Row.fetchAll(db, sql: "SELECT * FROM tokens ORDER BY created_at, hash").map(Self.token)
        }
    }

    public func revoke(id: String) async throws -> Bool {
        try await database.pool.write { db -> Bool in
            try db.execute(sql: "DELETE FROM tokens WHERE substr(hash, 1, ?) = ?", arguments: [id.count, id])
            return db.changesCount > 0
        }
    }

    public func recordUse(hash: String, at date: Date) async throws {
        try await database.pool.write { db in
            try db.execute(sql: "UPDATE tokens SET last_used_at = ? WHERE hash = ?", arguments: [Timestamp.string(date), hash])
        }
    }

    private static func token(_ row: Row) throws -> StoredToken { try StoredToken(row: SQLiteStoredRow(row, table: "tokens")) }
}
