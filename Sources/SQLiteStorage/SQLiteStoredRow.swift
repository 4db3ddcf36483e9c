import Foundation
import GRDB
import MapDepotCore

/// A GRDB row for the domains' row decoders (``StoredRow``).
struct SQLiteStoredRow: StoredRow {
    let row: Row
    let table: String
    /// Column positions of a known select list: a dictionary lookup instead of GRDB's case-insensitive scan by name.
    let positions: [String: Int]?

    init(_ row: Row, table: String, positions: [String: Int]? = nil) {
        self.row = row
        self.table = table
        self.positions = positions
    }

    /// The positions of a comma-separated select list.
    static func positions(_ columns: String) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: columns.split(separator: ",").enumerated().map { ($1.trimmingCharacters(in: .whitespacesAndNewlines), $0) })
    }

    private func value(_ column: String) -> DatabaseValue {
        if let positions, let index = positions[column] { return row[index] as DatabaseValue }
        return (row[column] as DatabaseValue?) ?? .null
    }

    func optionalString(_ column: String) throws -> String? {
        let value = value(column)
        if value.isNull { return nil }
        guard let text = String.fromDatabaseValue(value) else { throw CorruptRow(table: table, column: column, value: "\(value)") }
        return text
    }

    func optionalInt(_ column: String) throws -> Int? {
        let value = value(column)
        if value.isNull { return nil }
        guard let number = Int.fromDatabaseValue(value) else { throw CorruptRow(table: table, column: column, value: "\(value)") }
        return number
    }

    func bool(_ column: String) throws -> Bool {
        guard let flag = Bool.fromDatabaseValue(value(column)) else { throw CorruptRow(table: table, column: column, value: "\(value(column))") }
        return flag
    }
}

extension StoredValue {
    /// The value GRDB binds.
    var sqlite: (any DatabaseValueConvertible)? {
        switch self {
        case .null: nil
        case .text(let text): text
        case .integer(let number): number
        case .boolean(let flag): flag
        }
    }
}
