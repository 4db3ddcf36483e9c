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
}
