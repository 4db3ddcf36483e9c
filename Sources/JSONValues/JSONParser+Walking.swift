/// Walking a document whose shape the caller knows (issue #15's fast readers of FeatureCollections and change sets),
/// with the parser's own grammar: where the text departs from the expected shape (or from JSON) the walk throws
/// ``Unexpected``, and the caller reads the document through the tree instead, which names what is wrong. Depth is
/// counted as the tree counts it; a member twice in one object is a departure, as the tree refuses it.
extension JSONParser {
    public struct Unexpected: Error {
        public init() {}
    }

    /// Whether a number starts here.
    public var atNumber: Bool {
        index < bytes.count && (bytes[index] == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]))
    }

    /// A string here, or ``Unexpected``.
    public mutating func expectString() throws -> String {
        guard peek(UInt8(ascii: "\"")) else { throw Unexpected() }
        return try string()
    }

    /// Past an object's `{` (whitespace first).
    public mutating func beginObject() throws {
        skipWhitespace()
        guard peek(UInt8(ascii: "{")) else { throw Unexpected() }
        index += 1
        try enterWalk()
    }

    /// Past an array's `[` (whitespace first).
    public mutating func beginArray() throws {
        skipWhitespace()
        guard peek(UInt8(ascii: "[")) else { throw Unexpected() }
        index += 1
        try enterWalk()
    }

    /// The next member's name, with the parser after its `:`; nil after the object's `}`. `seen` holds the names so
    /// far (empty at the start of the object).
    public mutating func nextMember(_ seen: inout [String]) throws -> String? {
        skipWhitespace()
        if peek(UInt8(ascii: "}")) {
            index += 1
            depth -= 1
            return nil
        }
        if !seen.isEmpty {
            guard peek(UInt8(ascii: ",")) else { throw Unexpected() }
            index += 1
            skipWhitespace()
        }
        let key = try expectString()
        guard !seen.contains(key) else { throw Unexpected() }
        seen.append(key)
        skipWhitespace()
        guard peek(UInt8(ascii: ":")) else { throw Unexpected() }
        index += 1
        skipWhitespace()
        return key
    }

    /// Whether another element follows (the parser is at it), or the array's `]` was read. `first` is true at the start
    /// of the array.
    public mutating func nextElement(_ first: inout Bool) throws -> Bool {
        skipWhitespace()
        if peek(UInt8(ascii: "]")) {
            index += 1
            depth -= 1
            return false
        }
        if !first {
            guard peek(UInt8(ascii: ",")) else { throw Unexpected() }
            index += 1
            skipWhitespace()
            guard !peek(UInt8(ascii: "]")) else { throw Unexpected() }
        }
        first = false
        return true
    }

    private mutating func enterWalk() throws {
        depth += 1
        guard depth <= JSONValue.maxDepth else { throw Unexpected() }
    }
}
