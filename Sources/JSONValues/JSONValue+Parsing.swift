import Foundation

extension JSONValue {
    /// How deep arrays and objects may nest. GeoJSON needs four levels for a MultiPolygon's coordinates; 512 leaves
    /// room for any free-form `properties` while a body nested 100,000 deep is refused instead of exhausting the stack.
    public static let maxDepth = 512

    /// Parses UTF-8 JSON text strictly (RFC 8259): no trailing commas, comments or single quotes, no member twice
    /// in one object, numbers that fit a Double, nesting at most ``maxDepth`` deep.
    ///
    /// Our own parser (issue #9) rather than Foundation's `JSONDecoder` through `Codable`: that one accepted a
    /// trailing comma, called `1e400` "not valid JSON" without saying why, kept the last of duplicate members, and
    /// decoded each value by trying every type in turn — a thrown error per coordinate, which made a large ROI
    /// cost more to read than to plan.
    /// - Throws: ``JSONError`` at path `""` saying what is wrong and where (line and column).
    public static func parse(_ data: Data) throws -> JSONValue {
        try data.withUnsafeBytes { raw in
            var parser = JSONParser(bytes: raw.bindMemory(to: UInt8.self))
            return try parser.document()
        }
    }
}

/// A recursive-descent reader over the bytes of one document. Besides ``JSONValue/parse(_:)``, a decoder that knows
/// the document's shape (GeoJSON's fast path, issue #15) walks it with the same primitives (``string()``, ``number()``,
/// ``value()``), so that what it accepts is read exactly as the tree would read it.
public struct JSONParser {
    public let bytes: UnsafeBufferPointer<UInt8>
    /// The offset of the next byte to read.
    public var index = 0
    /// How deep the reader is in arrays and objects; a caller that enters one itself adds to it.
    public var depth = 0

    public init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    public mutating func document() throws -> JSONValue {
        skipWhitespace()
        let value = try self.value()
        skipWhitespace()
        guard index == bytes.count else { throw failure("unexpected text after the JSON value") }
        return value
    }

    public mutating func value() throws -> JSONValue {
        guard index < bytes.count else { throw failure("the text ends where a value was expected") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw failure("unexpected character \(describe(bytes[index])) where a value was expected")
        }
    }

    private mutating func enter() throws {
        depth += 1
        guard depth <= JSONValue.maxDepth else { throw failure("arrays and objects nest more than \(JSONValue.maxDepth) deep") }
    }

    private mutating func object() throws -> JSONValue {
        try enter()
        index += 1
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if peek(UInt8(ascii: "}")) {
            index += 1
            depth -= 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard peek(UInt8(ascii: "\"")) else {
                throw failure(peek(UInt8(ascii: "}")) ? "a trailing comma before '}'" : "a member name (a string) was expected")
            }
            let key = try string()
            skipWhitespace()
            guard peek(UInt8(ascii: ":")) else { throw failure("':' was expected after member \"\(key)\"") }
            index += 1
            skipWhitespace()
            let value = try self.value()
            guard members.updateValue(value, forKey: key) == nil else { throw failure("member \"\(key)\" appears twice") }
            skipWhitespace()
            if peek(UInt8(ascii: ",")) {
                index += 1
                continue
            }
            guard peek(UInt8(ascii: "}")) else { throw failure("',' or '}' was expected") }
            index += 1
            depth -= 1
            return .object(members)
        }
    }

    private mutating func array() throws -> JSONValue {
        try enter()
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek(UInt8(ascii: "]")) {
            index += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            if peek(UInt8(ascii: "]")) { throw failure("a trailing comma before ']'") }
            elements.append(try value())
            skipWhitespace()
            if peek(UInt8(ascii: ",")) {
                index += 1
                continue
            }
            guard peek(UInt8(ascii: "]")) else { throw failure("',' or ']' was expected") }
            index += 1
            depth -= 1
            return .array(elements)
        }
    }

    private mutating func literal(_ word: StaticString, _ value: JSONValue) throws -> JSONValue {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count,
            word.withUTF8Buffer({ expected in (0..<count).allSatisfy { bytes[index + $0] == expected[$0] } })
        else { throw failure("unexpected character \(describe(bytes[index])) where a value was expected") }
        index += count
        return value
    }

    /// The RFC 8259 number grammar, converted by the C library; a value beyond Double's range is refused.
    public mutating func number() throws -> Double {
        let start = index
        // The digits' value is gathered as they are scanned (wrapping: it is used only for 19 digits or fewer).
        var mantissa: UInt64 = 0
        func digits() -> Int {
            let first = index
            while index < bytes.count {
                let digit = bytes[index] &- UInt8(ascii: "0")
                guard digit < 10 else { break }
                mantissa = mantissa &* 10 &+ UInt64(digit)
                index += 1
            }
            return index - first
        }
        let negative = peek(UInt8(ascii: "-"))
        if negative { index += 1 }
        let integerStart = index
        if peek(UInt8(ascii: "0")) {
            index += 1
            if index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                throw failure("a number must not start with 0")
            }
        } else if digits() == 0 {
            throw failure("a digit was expected in a number")
        }
        let integerDigits = index - integerStart
        var fractionDigits = 0
        if peek(UInt8(ascii: ".")) {
            index += 1
            fractionDigits = digits()
            guard fractionDigits > 0 else { throw failure("a digit was expected after the decimal point") }
        }
        if peek(UInt8(ascii: "e")) || peek(UInt8(ascii: "E")) {
            index += 1
            if peek(UInt8(ascii: "+")) || peek(UInt8(ascii: "-")) { index += 1 }
            guard digits() > 0 else { throw failure("a digit was expected in the exponent") }
        } else if integerDigits + fractionDigits <= 19, fractionDigits <= 22, mantissa <= 1 << 53 {
            // Clinger's fast path: the digits as an integer below 2^53 and a power of ten up to 10^22 are both exact,
            // so one IEEE division gives the correctly rounded value, as strtod would (coordinates, nearly always).
            let value = Double(mantissa) / ExactPowerOfTen.of(fractionDigits)
            return negative ? -value : value
        }
        // The C library reads the number in place when a byte follows it (strtod stops there); the String way is for a
        // number at the very end of the text (strtod could read past it), or when strtod would stop elsewhere than
        // the grammar did (a locale's other decimal point).
        if index < bytes.count, let base = bytes.baseAddress {
            var end: UnsafeMutablePointer<CChar>?
            let begin = UnsafeRawPointer(base + start).assumingMemoryBound(to: CChar.self)
            let value = strtod(begin, &end)
            if let end, begin.distance(to: UnsafePointer(end)) == index - start, value.isFinite { return value }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw failure("the number \(text) is out of range (at most ±1.7976931348623157e308)", at: start)
        }
        return value
    }

    public mutating func string() throws -> String {
        let start = index
        index += 1
        var scalars: [UInt8] = []
        var runStart = index
        while true {
            guard index < bytes.count else { throw failure("a string is not closed", at: start) }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                scalars.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                index += 1
                break
            }
            if byte < 0x20 { throw failure("a control character (\(describe(byte))) in a string must be escaped") }
            if byte != UInt8(ascii: "\\") {
                index += 1
                continue
            }
            scalars.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            index += 1
            guard index < bytes.count else { throw failure("a string is not closed", at: start) }
            let escape = bytes[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""): scalars.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): scalars.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "/"): scalars.append(UInt8(ascii: "/"))
            case UInt8(ascii: "b"): scalars.append(0x08)
            case UInt8(ascii: "f"): scalars.append(0x0C)
            case UInt8(ascii: "n"): scalars.append(0x0A)
            case UInt8(ascii: "r"): scalars.append(0x0D)
            case UInt8(ascii: "t"): scalars.append(0x09)
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800...0xDBFF).contains(code) {
                    guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                        throw failure("an unpaired surrogate \\u\(String(code, radix: 16)) in a string")
                    }
                    index += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw failure("an unpaired surrogate \\u\(String(code, radix: 16)) in a string") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(code) {
                    throw failure("an unpaired surrogate \\u\(String(code, radix: 16)) in a string")
                }
                guard let scalar = Unicode.Scalar(code) else { throw failure("\\u\(String(code, radix: 16)) is not a character") }
                scalars.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                throw failure("\\\(describe(escape)) is not an escape (use \\\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t or \\uXXXX)")
            }
            runStart = index
        }
        guard let text = String(validating: scalars, as: UTF8.self) else { throw failure("a string is not valid UTF-8", at: start) }
        return text
    }

    private mutating func hex4() throws -> UInt32 {
        guard index + 4 <= bytes.count else { throw failure("\\u needs four hexadecimal digits") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw failure("\\u needs four hexadecimal digits")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    public func peek(_ byte: UInt8) -> Bool {
        index < bytes.count && bytes[index] == byte
    }

    public mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private func describe(_ byte: UInt8) -> String {
        (0x21..<0x7F).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
    }

    /// The error, placed by line and column (both from 1) of `offset`, the current position by default.
    private func failure(_ reason: String, at offset: Int? = nil) -> JSONError {
        let end = min(offset ?? index, bytes.count)
        var line = 1
        var column = 1
        for byte in UnsafeBufferPointer(rebasing: bytes[0..<end]) {
            if byte == 0x0A {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return JSONError(path: "", reason: "not valid JSON: \(reason) (line \(line), column \(column))")
    }
}
