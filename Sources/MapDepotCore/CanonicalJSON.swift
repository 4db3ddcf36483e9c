import Foundation
import JSONValues

/// Sorted-key JSON text without escaped slashes: the one encoding MapDepot stores, compares and signs.
///
/// Written here byte for byte as Foundation's `JSONEncoder` with `.sortedKeys` and `.withoutEscapingSlashes` writes
/// it (integral numbers below 9e15 without a fraction, others as Swift prints a Double; `"`, `\\` and control
/// characters escaped), at a fraction of the cost: encoding through `Codable` was a tenth of a task read (issue #9).
public enum CanonicalJSON {
    public static func text(_ value: JSONValue) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        write(value, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func write(_ value: JSONValue, into bytes: inout [UInt8]) {
        switch value {
        case .null: bytes.append(contentsOf: "null".utf8)
        case .bool(let flag): bytes.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let number): writeNumber(number, into: &bytes)
        case .string(let string): writeString(string, into: &bytes)
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                write(element, into: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                writeString(key, into: &bytes)
                bytes.append(UInt8(ascii: ":"))
                write(members[key]!, into: &bytes)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    public static func numberText(_ number: Double) -> String {
        var bytes: [UInt8] = []
        writeNumber(number, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends a number's canonical text to `bytes`: an integral number below 9e15 as an integer, any other as Swift's
    /// `description` prints it, without a trailing ".0".
    public static func writeNumber(_ number: Double, into bytes: inout [UInt8]) {
        guard number.isFinite else {
            bytes.append(contentsOf: "null".utf8)
            return
        }
        if number.rounded() == number, abs(number) < 9.0e15 {
            writeInteger(Int64(number), into: &bytes)
            return
        }
        if writeShortDecimal(number, into: &bytes) { return }
        var text = number.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes.append(contentsOf: text.utf8)
    }

    static func writeInteger(_ value: Int64, into bytes: inout [UInt8]) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        writeDigits(value.magnitude, count: nil, into: &bytes)
    }

    /// `value`'s decimal digits, zero-padded to `count` when one is given.
    private static func writeDigits(_ value: UInt64, count: Int?, into bytes: inout [UInt8]) {
        var digits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var length = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[31 - length] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                length += 1
            } while rest > 0
            while let count, length < count {
                buffer[31 - length] = UInt8(ascii: "0")
                length += 1
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[(32 - length)...]))
        }
    }

    /// The text Swift's `description` gives a number of at most 15 significant digits between 1e-4 and 1e15, written
    /// without `description` (a String per number was a quarter of a change set's ingestion, issue #15).
    ///
    /// The number rounded to 15 significant digits, `n / 10^k`, when that decimal reads back as the same Double (the
    /// division of two exact values is correctly rounded, as a reader's is), with its trailing zeros taken off. No
    /// two decimals of at most 15 significant digits read back as one Double (DBL_DIG), so what is left is the shortest
    /// decimal that does, the digits `description` prints, in its plain notation in this range. When the 15-digit one
    /// does not read back, none shorter does: 16 or 17 digits, and the exponent forms, are left to `description`.
    ///
    /// One rounding and a division per number; the bisection over fraction lengths it replaces took four of each and was
    /// a tenth of ingesting Natural Earth's polygons.
    static func writeShortDecimal(_ number: Double, into bytes: inout [UInt8]) -> Bool {
        let magnitude = number.magnitude
        guard magnitude >= 1e-4, magnitude < 1e15 else { return false }
        var integerDigits = 0
        while integerDigits < 15 && ExactPowerOfTen.of(integerDigits) <= magnitude { integerDigits += 1 }
        var fraction = 15 - integerDigits
        guard fraction >= 1 else { return false }
        // Rounded to an integer by adding and taking away 2^52 (exact below 2^52; a tie cannot read back anyway).
        let scaled = magnitude * ExactPowerOfTen.of(fraction) + 0x1p52 - 0x1p52
        guard scaled < 1e15, scaled / ExactPowerOfTen.of(fraction) == magnitude else { return false }
        var digits = UInt64(scaled)
        // Not an integer (those are written before this), so a fraction digit that is not zero remains.
        while fraction > 1, digits % 10 == 0 {
            digits /= 10
            fraction -= 1
        }
        let unit = UInt64(ExactPowerOfTen.of(fraction))
        if number < 0 { bytes.append(UInt8(ascii: "-")) }
        writeDigits(digits / unit, count: nil, into: &bytes)
        bytes.append(UInt8(ascii: "."))
        writeDigits(digits % unit, count: fraction, into: &bytes)
        return true
    }

    /// Appends a string's canonical text (quoted, escaped) to `bytes`.
    public static func writeString(_ string: String, into bytes: inout [UInt8]) {
        var string = string
        string.withUTF8 { writeString(utf8: $0, into: &bytes) }
    }

    /// Appends the canonical text of a string given as its UTF-8 bytes (a database column's, say) to `bytes`.
    public static func writeString(utf8: UnsafeBufferPointer<UInt8>, into bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        // Runs that need no escape (most strings, ids always) are appended in one copy each, not byte by byte: this
        // runs for every feature id of every snapshot.
        var runStart = 0
        for index in 0..<utf8.count {
            let byte = utf8[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
            writeEscape(byte, into: &bytes)
            runStart = index + 1
        }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        bytes.append(UInt8(ascii: "\""))
    }

    /// The escape of a byte JSON strings cannot hold as it is (RFC 8259 §7): the short forms where there are.
    private static func writeEscape(_ byte: UInt8, into bytes: inout [UInt8]) {
        let hex = Hex.digits
        switch byte {
        case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
        case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
        case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
        case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
        case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
        case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
        case 0x0C: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
        default: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]])
        }
    }

    public static func parse(_ text: String) throws -> JSONValue {
        try JSONValue.parse(Data(text.utf8))
    }
}
