import Foundation
import GeoJSON
import JSONValues
import PropertyBased
import Testing
import TestSupport

/// Issue #9: mutated and random inputs to the JSON reader and the GeoJSON decoder, seeded from `../shared/data`.
/// Nothing crashes; whatever parses writes back and parses to the same value. `MAPDEPOT_FUZZ_INPUTS` sets the count
/// per property (CI: 2,000; the benchmark run in the README: 1,000,000).
@Suite struct JSONFuzzTests {
    static var count: Int { Int(ProcessInfo.processInfo.environment["MAPDEPOT_FUZZ_INPUTS"] ?? "") ?? 2_000 }

    /// Small real documents: a city, a country (a MultiPolygon), an export request.
    static let seeds: [[UInt8]] = {
        let countries = (try? Fixtures.countries()) ?? []
        let picked = countries.filter { ["Fiji", "Cyprus", "Luxembourg"].contains($0.properties?["name"]?.stringValue ?? "") }
        var documents = picked.map { Array(CanonicalText.of($0.json).utf8) }
        documents.append(Array(#"{"catalogRecordID":"6f4c3a52-4b6e-4d8e-9a55-0a1f2b3c4d5e","domain":"RASTER","artifactCRS":"4326","webhooks":[{"url":"https://example.com/h","events":["TASK_COMPLETED"]}],"ROI":{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"maxResolutionDeg":0.0439453125},"geometry":{"type":"Polygon","coordinates":[[[-5,42],[8,42],[8,51],[-5,51],[-5,42]]]}}]}}"#.utf8))
        return documents
    }()

    static let edits = Gen.int(in: 0...1_000_000).array(of: 3...30)

    @Test func mutatedDocumentsNeverCrashTheReader() async {
        await propertyCheck(count: Self.count, input: Gen.int(in: 0...1_000), Self.edits) { seed, edits in
            let bytes = Mutation.apply(edits, to: Self.seeds[seed % Self.seeds.count])
            guard let value = try? JSONValue.parse(Data(bytes)) else { return }
            #expect((try? JSONValue.parse(Data(CanonicalText.of(value).utf8))) == value)
            if let geometry = value.objectValue?["geometry"] { _ = try? GeoJSONGeometry(json: geometry, path: "geometry") }
            _ = try? FeatureCollection(json: value, path: "ROI")
        }
    }

    @Test func randomTextNeverCrashesTheReader() async {
        let alphabet = Array("{}[],:\"0123456789.eE+-truefalsn \\u\n\t/é")
        await propertyCheck(count: Self.count, input: Gen.element(of: alphabet).array(of: 0...80)) { characters in
            let text = String(characters.compactMap { $0 })
            guard let value = try? JSONValue.parse(Data(text.utf8)) else { return }
            #expect((try? JSONValue.parse(Data(CanonicalText.of(value).utf8))) == value)
        }
    }
}

/// The canonical writer lives in MapDepotCore, which GeoJSON's tests do not import; Foundation's encoder writes the
/// same text (`CanonicalJSONWriterTests`).
enum CanonicalText {
    static func of(_ value: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self)
    }
}
