import Foundation

extension StoredToken {
    /// A `tokens` row, read the same way by every backend; an unknown scope or a bad timestamp throws ``CorruptRow``.
    public init(row: some StoredRow) throws {
        let text = try row.string("scopes")
        let scopes = try text.split(separator: " ").map { name in
            guard let scope = Scope(rawValue: String(name)) else { throw CorruptRow(table: row.table, column: "scopes", value: text) }
            return scope
        }
        self.init(
            hash: try row.string("hash"), subject: try row.string("subject"), scopes: Set(scopes), createdAt: try row.date("created_at"),
            expiresAt: try row.optionalDate("expires_at"), lastUsedAt: try row.optionalDate("last_used_at")
        )
    }
}
