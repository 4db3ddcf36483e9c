import Foundation

/// Lowercase hexadecimal, the form every digest, signature and stored secret takes in MapDepot.
public enum Hex {
    /// The sixteen digits as UTF-8, made once (``CanonicalJSON`` writes `\u00XX` escapes with them too).
    static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Two digits a byte from a table: `String(format:)` per byte was an eighth of a task read's time (issue #9,
    /// two signed links and a token hash per `GET /export-tasks/{id}`).
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Bytes from hex (either case); a trailing odd digit or an invalid pair is skipped.
    public static func decode(_ text: String) -> Data {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex, let next = text.index(index, offsetBy: 2, limitedBy: text.endIndex) {
            if let byte = UInt8(text[index..<next], radix: 16) { bytes.append(byte) }
            index = next
        }
        return Data(bytes)
    }
}
