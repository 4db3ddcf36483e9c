import Foundation
import GeoJSON
import JSONValues
import MapDepotCore
import Testing
import TestSupport

/// Issue #9: the canonical text is now written by hand; it must stay byte for byte what Foundation's encoder wrote,
/// since stored rows, signatures and package metadata were made with it.
@Suite struct CanonicalJSONWriterTests {
    static func foundation(_ value: JSONValue) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    @Test func writesWhatFoundationWrote() throws {
        let samples: [JSONValue] = [
            .null, .bool(true), .number(0), .number(-0.0), .number(1), .number(-42), .number(0.17578125), .number(1e-5), .number(1.5e300),
            .number(9.5e15), .number(123456789.125), .number(-1e-7), .string("a/b \"q\" \\ \n\r\t\u{1}\u{1f} é 😀"),
            .array([.number(1), .string("x"), .object([:])]), .object(["b": .number(2), "a": .array([]), "é": .null, "A": .bool(false)]),
        ]
        for sample in samples {
            #expect(try CanonicalJSON.text(sample) == Self.foundation(sample), "\(sample)")
        }
        for name in ["naturalearth_countries.geojson", "naturalearth_cities.geojson"] {
            let value = try JSONValue.parse(try Data(contentsOf: Fixtures.sharedData.appendingPathComponent(name)))
            #expect(try CanonicalJSON.text(value) == Self.foundation(value))
        }
    }

    /// What `numberText` wrote before it had its own digits: an integer below 9e15, else `description` without ".0".
    static func described(_ number: Double) -> String {
        guard number.isFinite else { return "null" }
        if number.rounded() == number, abs(number) < 9.0e15 { return String(Int64(number)) }
        var text = number.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        return text
    }

    /// Issue #15: numbers are written without `description` where it is safe; whatever the number, the text is the
    /// same. Random decimals of 1–17 digits around every magnitude from 1e-9 to 1e17 (coordinates' shapes among
    /// them), the edges of the fast range, and random bit patterns.
    @Test func numbersAreWrittenAsDescriptionWritesThem() async throws {
        let mismatches = try await OwnThread.run { () -> [String] in
            var generator = SystemRandomNumberGenerator()
            var samples: [Double] = [1e-4, 1e-4.nextDown, 1e-4.nextUp, 1e15, 1e15.nextDown, 0.1, 0.2, 0.3, 179.99999999999997, -0.0001, 123456789012345.6]
            for _ in 0..<60_000 {
                let digits = Int.random(in: 1...17, using: &generator)
                var text = (0..<digits).map { _ in String(Int.random(in: 0...9, using: &generator)) }.joined()
                text.insert(".", at: text.index(text.startIndex, offsetBy: Int.random(in: 0...digits, using: &generator)))
                if text.hasPrefix(".") { text = "0" + text }
                if text.hasSuffix(".") { text += "0" }
                let value = Double(text + "e" + String(Int.random(in: -9...9, using: &generator)))!
                samples.append(Bool.random(using: &generator) ? value : -value)
            }
            for _ in 0..<20_000 {
                samples.append(Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &generator)))
            }
            return samples.compactMap { value in
                CanonicalJSON.numberText(value) == Self.described(value) ? nil : "\(value): \(CanonicalJSON.numberText(value)) ≠ \(Self.described(value))"
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }
}
