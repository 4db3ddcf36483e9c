import Foundation
import MapDepotCore
import PostgresNIO

extension PostgresRandomAccessRow {
    func string(_ column: String) throws -> String { try self[column].decode(String.self) }
    func optionalString(_ column: String) throws -> String? { try self[column].decode(String?.self) }
    func int(_ column: String) throws -> Int { try self[column].decode(Int.self) }
    func optionalInt(_ column: String) throws -> Int? { try self[column].decode(Int?.self) }
    func bool(_ column: String) throws -> Bool { try self[column].decode(Bool.self) }
    func date(_ column: String) throws -> Date? { try optionalString(column).flatMap(Timestamp.parse) }
}

extension PostgresRowSequence {
    /// Every row, for random access by column name.
    func all() async throws -> [PostgresRandomAccessRow] {
        var rows: [PostgresRandomAccessRow] = []
        for try await row in self { rows.append(row.makeRandomAccess()) }
        return rows
    }
}

extension PSQLError {
    /// A unique-constraint violation (SQLSTATE 23505).
    var isUniqueViolation: Bool { serverInfo?[.sqlState] == "23505" }
}

/// A PostgreSQL row for the domains' row decoders (``StoredRow``).
struct PostgresStoredRow: StoredRow {
    let row: PostgresRandomAccessRow
    let table: String

    func optionalString(_ column: String) throws -> String? { try row[column].decode(String?.self) }
    func optionalInt(_ column: String) throws -> Int? { try row[column].decode(Int?.self) }
    func bool(_ column: String) throws -> Bool { try row[column].decode(Bool.self) }
}
