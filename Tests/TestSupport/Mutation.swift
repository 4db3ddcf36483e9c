import Foundation

/// Byte-level mutations of a seed document for property-based fuzzing (issue #9): each triple of numbers drawn by
/// the property test is one edit — replace a byte, insert one, delete a run, duplicate a run, or splice in a token
/// that JSON readers get wrong (huge and tiny numbers, deep brackets, escapes, duplicated members).
public enum Mutation {
    public static let tokens: [String] = [
        "1e-320", "5e-324", "1e400", "-0", "0.0", "1e308", "NaN", "null", "true", "[]", "{}", "[[[[[[[[", "]]]]", "\"\\u0000\"",
        "\"\\ud800\"", ",", ",,", ":", "\"", "\\", "{\"a\":1,\"a\":2}", "-1", "9007199254740993", "\u{0}", "é", "😀",
        String(repeating: "[", count: 600), "\"maxResolutionDeg\":1e-320", "\"type\":\"MultiPolygon\"", "\"coordinates\":[]",
    ]

    /// The seed with `edits` applied; `edits` are read three at a time.
    public static func apply(_ edits: [Int], to seed: [UInt8]) -> [UInt8] {
        var bytes = seed
        var index = 0
        while index + 2 < edits.count {
            let (what, whereTo, value) = (edits[index], edits[index + 1], edits[index + 2])
            index += 3
            let position = bytes.isEmpty ? 0 : whereTo % (bytes.count + 1)
            switch what % 6 {
            case 0 where position < bytes.count: bytes[position] = UInt8(truncatingIfNeeded: value)
            case 1: bytes.insert(UInt8(truncatingIfNeeded: value), at: position)
            case 2 where position < bytes.count: bytes.removeSubrange(position..<min(bytes.count, position + 1 + value % 16))
            case 3 where position < bytes.count:
                let run = Array(bytes[position..<min(bytes.count, position + 1 + value % 32)])
                bytes.insert(contentsOf: run, at: position)
            default: bytes.insert(contentsOf: Array(tokens[value % tokens.count].utf8), at: position)
            }
        }
        return bytes
    }
}
