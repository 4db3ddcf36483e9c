/// A stored row holding a value none of our writers produce (a hand edit, a bad migration, a disk fault): the read
/// fails — a 500 with a log line naming the row — rather than decoding into a different valid value.
public struct CorruptRow: Error, CustomStringConvertible {
    public let table: String
    /// The column's position in the statement's select list.
    public let column: Int
    public let value: String

    public var description: String { "corrupt row in \(table): column \(column) holds \(value)" }
}
