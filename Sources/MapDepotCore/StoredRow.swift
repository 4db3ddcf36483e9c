import Foundation
import JSONValues

/// A database row as the domains' row decoders read it, by column name, whatever the backend (issue #10: one decoder
/// per row type, not one per store). Values are what our writers store: text (timestamps, UUIDs, JSON, enums), integers
/// and booleans.
public protocol StoredRow {
    /// The table the row is from, for ``CorruptRow``.
    var table: String { get }
    func optionalString(_ column: String) throws -> String?
    func optionalInt(_ column: String) throws -> Int?
    func bool(_ column: String) throws -> Bool
}

/// A value to store in a column: what ``StoredRow`` reads back.
public enum StoredValue: Sendable, Hashable {
    case null
    case text(String)
    case integer(Int)
    case boolean(Bool)

    public static func text(_ value: String?) -> StoredValue { value.map(StoredValue.text) ?? .null }
    public static func integer(_ value: Int?) -> StoredValue { value.map(StoredValue.integer) ?? .null }
    public static func integer(_ value: Int64) -> StoredValue { .integer(Int(value)) }
    public static func date(_ value: Date?) -> StoredValue { value.map { .text(Timestamp.string($0)) } ?? .null }
    public static func json(_ value: JSONValue?) -> StoredValue { value.map { .text(CanonicalJSON.text($0)) } ?? .null }
}

extension StoredRow {
    public func string(_ column: String) throws -> String {
        guard let value = try optionalString(column) else { throw CorruptRow(table: table, column: column, value: "NULL") }
        return value
    }

    public func int(_ column: String) throws -> Int {
        guard let value = try optionalInt(column) else { throw CorruptRow(table: table, column: column, value: "NULL") }
        return value
    }

    public func int64(_ column: String) throws -> Int64 { Int64(try int(column)) }

    /// A timestamp, nil for NULL; text that is not one throws.
    public func optionalDate(_ column: String) throws -> Date? {
        guard let text = try optionalString(column) else { return nil }
        guard let date = Timestamp.parse(text) else { throw CorruptRow(table: table, column: column, value: text) }
        return date
    }

    public func date(_ column: String) throws -> Date {
        guard let date = try optionalDate(column) else { throw CorruptRow(table: table, column: column, value: "NULL") }
        return date
    }

    public func uuid(_ column: String) throws -> UUID {
        let text = try string(column)
        guard let id = UUID(uuidString: text) else { throw CorruptRow(table: table, column: column, value: text) }
        return id
    }

    /// An enum stored by its raw value.
    public func value<Value: RawRepresentable<String>>(_ column: String, as type: Value.Type = Value.self) throws -> Value {
        let text = try string(column)
        guard let value = Value(rawValue: text) else { throw CorruptRow(table: table, column: column, value: text) }
        return value
    }

    public func optionalJSON(_ column: String) throws -> JSONValue? {
        guard let text = try optionalString(column) else { return nil }
        do { return try CanonicalJSON.parse(text) } catch { throw CorruptRow(table: table, column: column, value: text) }
    }

    public func json(_ column: String) throws -> JSONValue {
        guard let value = try optionalJSON(column) else { throw CorruptRow(table: table, column: column, value: "NULL") }
        return value
    }
}

/// A stored row holding a value none of our writers produce (a hand edit, a bad migration, a disk fault): the read
/// fails — a 500 with a log line naming the row — rather than decoding into a different valid value.
public struct CorruptRow: Error, CustomStringConvertible {
    public let table: String
    public let column: String
    public let value: String

    public init(table: String, column: String, value: String) {
        self.table = table
        self.column = column
        self.value = value
    }

    public var description: String { "corrupt row in \(table): column \(column) holds \(value)" }
}
