import Foundation

/// Lowercase hexadecimal, the form every digest, signature and stored secret takes in MapDepot.
public enum Hex {
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
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
