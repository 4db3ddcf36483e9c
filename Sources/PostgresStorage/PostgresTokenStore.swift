import Foundation
import MapDepotCore
import PostgresNIO

/// API tokens in PostgreSQL, by SHA-256.
public struct PostgresTokenStore: TokenStore {
    let database: PostgresDatabase

    public init(database: PostgresDatabase) {
        self.database = database
    }

    public func insert(_ token: StoredToken) async throws {
        let scopes = token.scopes.map(\.rawValue).sorted().joined(separator: " ")
        try await database.query(
            """
            INSERT INTO tokens (hash, subject, scopes, created_at, expires_at)
            VALUES (\(token.hash), \(token.subject), \(scopes), \(Timestamp.string(token.createdAt)), \(token.expiresAt.map(Timestamp.string)))
            """,
            logger: database.logger
        )
    }

    public func token(hash: String) async throws -> StoredToken? {
        try await database.query("SELECT * FROM tokens WHERE hash = \(hash)", logger: database.logger).all().first.map(Self.token)
    }

    public func tokens() async throws -> [StoredToken] {
        try await database.query("SELECT * FROM tokens ORDER BY created_at, hash", logger: database.logger).all().map(Self.token)
    }

    public func revoke(id: String) async throws -> Bool {
        let rows = try await database.query(
            // `id` is hex digits only (TokenService checks), so it holds no LIKE wildcard.
            "DELETE FROM tokens WHERE hash LIKE \(id + "%") RETURNING hash", logger: database.logger
        ).all()
        return !rows.isEmpty
    }

    public func recordUse(hash: String, at date: Date) async throws {
        try await database.query(
            "UPDATE tokens SET last_used_at = \(Timestamp.string(date)) WHERE hash = \(hash)", logger: database.logger
        )
    }

    private static func token(_ row: PostgresRandomAccessRow) throws -> StoredToken { try StoredToken(row: PostgresStoredRow(row: row, table: "tokens")) }
}
