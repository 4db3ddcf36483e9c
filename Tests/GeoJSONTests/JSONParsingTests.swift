import Foundation
import GeoJSON
import JSONValues
import Testing
import TestSupport

/// Issue #9: MapDepot's own strict JSON reader.
@Suite struct JSONParsingTests {
    static func parse(_ text: String) throws -> JSONValue { try JSONValue.parse(Data(text.utf8)) }

    @Test func readsEveryKindOfValue() throws {
        let value = try Self.parse(#" {"a": [1, -2.5e3, 0, true, false, null, "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"], "b": {}} "#)
        #expect(value == .object([
            "a": .array([.number(1), .number(-2500), .number(0), .bool(true), .bool(false), .null, .string("x\"\\/\u{8}\u{c}\n\r\té😀")]),
            "b": .object([:]),
        ]))
        #expect(try Self.parse("5e-324") == .number(try #require(Double("5e-324"))))
        #expect(try Self.parse("[]") == .array([]))
        #expect(try Self.parse("\"日本\"") == .string("日本"))
    }

    /// Each is refused with a reason; Foundation's decoder accepted the first two.
    @Test(arguments: [
        ("[1, 2,]", "trailing comma"), (#"{"a": 1,}"#, "trailing comma"), (#"{"a": 1, "a": 2}"#, "appears twice"),
        ("1e400", "out of range"), ("-1e400", "out of range"), ("01", "must not start with 0"), ("1.", "after the decimal point"),
        ("[1 2]", "',' or ']'"), ("{a: 1}", "member name"), ("'x'", "unexpected character"), ("tru", "unexpected character"),
        ("\"abc", "not closed"), ("\"a\u{1}\"", "control character"), (#""\x""#, "not an escape"), (#""\ud800""#, "unpaired surrogate"),
        ("", "ends where a value"), ("{} {}", "after the JSON value"), ("NaN", "unexpected character"), ("// c\n{}", "unexpected character"),
    ])
    func refusesWhatIsNotJSON(text: String, reason: String) {
        #expect {
            try Self.parse(text)
        } throws: { error in
            "\(error)".contains(reason) && "\(error)".contains("line 1")
        }
    }

    @Test func refusesDeepNestingWithoutExhaustingTheStack() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect { try Self.parse(deep) } throws: { "\($0)".contains("nest more than 512") }
        let fine = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        _ = try Self.parse(fine)
    }

    @Test func refusesInvalidUTF8() {
        #expect(throws: GeoJSONError.self) { try JSONValue.parse(Data([0x22, 0xFF, 0xFE, 0x22])) }
    }

    /// The shared data reads as Foundation reads it.
    @Test func readsTheSharedDataAsFoundationDoes() throws {
        for name in ["naturalearth_countries.geojson", "naturalearth_cities.geojson"] {
            let data = try Data(contentsOf: Fixtures.sharedData.appendingPathComponent(name))
            let ours = try JSONValue.parse(data)
            let foundation = try JSONDecoder().decode(JSONValue.self, from: data)
            #expect(ours == foundation)
        }
    }

    /// Issue #15: short decimals are read without strtod (Clinger's exact fast path); every number reads as Swift's
    /// correctly rounded `Double(String)` reads it, bit for bit: 0–19 digits, any decimal point, with and without an
    /// exponent, and the fast path's edges (2^53, 10^22).
    @Test func numbersReadAsTheStandardLibraryReadsThem() async throws {
        let mismatches = try await OwnThread.run { () -> [String] in
            var generator = SystemRandomNumberGenerator()
            var texts = ["9007199254740992", "9007199254740993", "9007199254740993.0", "0.9007199254740993", "1.0000000000000000000001",
                         "-0", "-0.0", "0.0000000000000000000001", "1234567890123456789", "12345678901234567890", "4.9e-324", "1.7976931348623157e308"]
            for _ in 0..<60_000 {
                let digits = Int.random(in: 1...20, using: &generator)
                var text = String(Int.random(in: 1...9, using: &generator)) + (1..<digits).map { _ in String(Int.random(in: 0...9, using: &generator)) }.joined()
                if Bool.random(using: &generator) { text = "0" }
                let point = Int.random(in: 0...text.count, using: &generator)
                if point < text.count, point > 0 { text.insert(".", at: text.index(text.startIndex, offsetBy: point)) }
                if Int.random(in: 0..<8, using: &generator) == 0 { text += "e" + String(Int.random(in: -30...30, using: &generator)) }
                texts.append(Bool.random(using: &generator) ? "-" + text : text)
            }
            return texts.compactMap { text in
                let parsed = try? JSONValue.parse(Data("[\(text)]".utf8)).arrayValue?.first?.numberValue
                let expected = Double(text)
                return parsed?.bitPattern == expected?.bitPattern ? nil : "\(text): \(String(describing: parsed)) ≠ \(String(describing: expected))"
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }
}
