import Foundation
@testable import GeoJSON
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

/// Issue #15's fast reader (``FeatureCollection/init(data:path:)``) against the tree: on real documents and on mutated
/// ones, the same features when both read them, the same error text when neither does.
@Suite struct FeatureCollectionBytesTests {
    enum Outcome: Equatable {
        case read(FeatureCollection)
        case refused(String)

        init(_ body: () throws -> FeatureCollection) {
            do { self = .read(try body()) } catch { self = .refused("\(error)") }
        }
    }

    /// The fast reader alone: nil where it gives up.
    static func fastOnly(_ bytes: [UInt8]) -> [Feature]? {
        bytes.withUnsafeBufferPointer { buffer in
            var reader = FeatureCollectionReader(parser: JSONParser(bytes: buffer))
            return try? reader.document()
        }
    }

    static func both(_ bytes: [UInt8]) -> (fast: Outcome, tree: Outcome) {
        (
            Outcome { try FeatureCollection(data: Data(bytes), path: "c") },
            Outcome { try FeatureCollection(json: try JSONValue.parse(Data(bytes)), path: "c") }
        )
    }

    /// Every type, with members in both orders, a third coordinate, holes, extra members, null geometry and properties.
    static let seeds: [[UInt8]] = {
        // Small countries (one a MultiPolygon): the property test parses each mutated document three times.
        let countries = ((try? Fixtures.countries()) ?? []).filter { ["Fiji", "Cyprus", "Luxembourg", "Lebanon"].contains($0.properties?["name"]?.stringValue ?? "") }
        var documents = [
            Array(CanonicalText.of(FeatureCollection(features: countries).json).utf8),
            Array(
                #"""
                { "type" : "FeatureCollection", "bbox": [0, 0, 1, 1], "features" : [
                  {"type":"Feature","id":7,"geometry":{"type":"Point","coordinates":[1.5,-2,30]},"properties":null},
                  {"geometry":{"coordinates":[[1,2],[3,4]],"type":"LineString","bbox":[1,2,3,4]},"properties":{"a":[1,{"b":null}]},"type":"Feature","id":"x"},
                  {"type":"Feature","geometry":null,"properties":{}},
                  {"type":"Feature","geometry":{"type":"MultiPoint","coordinates":[[0,0],[180,90]]}},
                  {"type":"Feature","geometry":{"type":"MultiLineString","coordinates":[[[0,0],[1,1]],[[2,2],[3,3],[4,4]]]}},
                  {"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[2,2],[2,4],[4,4],[2,2]]]}},
                  {"type":"Feature","geometry":{"coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[5,5],[6,5],[6,6],[5,5]],[[5.1,5.1],[5.2,5.1],[5.2,5.2],[5.1,5.1]]]],"type":"MultiPolygon"}}
                ]}
                """#.utf8
            ),
        ]
        documents.append(Array(#"{"type":"FeatureCollection","features":[]}"#.utf8))
        return documents
    }()

    @Test func realDocumentsReadAsTheTreeReadsThem() throws {
        for seed in Self.seeds {
            let (fast, tree) = Self.both(seed)
            #expect(fast == tree)
            guard case .read(let collection) = tree else {
                Issue.record("a seed does not read: \(tree)")
                continue
            }
            // ... and the fast reader itself took it, without falling back on the tree.
            #expect(Self.fastOnly(seed) == collection.features)
        }
        guard case .read(let collection) = Self.both(Self.seeds[1]).fast else { return }
        #expect(collection.features.count == 7)
        #expect(collection.features[0].id == .number(7) && collection.features[2].geometry == nil)
    }

    @Test func mutatedDocumentsReadAsTheTreeReadsThem() async {
        await propertyCheck(count: JSONFuzzTests.count, input: Gen.int(in: 0...1_000), JSONFuzzTests.edits) { seed, edits in
            let bytes = Mutation.apply(edits, to: Self.seeds[seed % Self.seeds.count])
            // The parsing on a thread of its own: 2,000 documents read three times each would hold a cooperative thread
            // for seconds, and every other suite of the parallel pass would wait for it.
            guard let (fast, tree, alone) = try? await OwnThread.run({ () -> (Outcome, Outcome, [Feature]?) in
                let (fast, tree) = Self.both(bytes)
                return (fast, tree, Self.fastOnly(bytes))
            }) else {
                Issue.record("the reading thread failed")
                return
            }
            #expect(fast == tree, "\(String(decoding: bytes, as: UTF8.self).prefix(300))")
            if let alone { #expect(tree == .read(FeatureCollection(features: alone))) }
        }
    }

    /// A document over 1 MiB, whose features array is read in two halves at once: separators of every spacing, strings
    /// holding brackets, braces and escaped quotes (which the scan for element starts must skip).
    static let large: [UInt8] = {
        let countries = ((try? Fixtures.countries()) ?? []).filter { ["Fiji", "Cyprus", "Luxembourg", "Lebanon"].contains($0.properties?["name"]?.stringValue ?? "") }
        var features = countries.map { CanonicalText.of($0.json) }
        features.append(#"{"type":"Feature","id":"a]{b","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"q":"x\"]}{[","r":["]"]}}"#)
        features.append(#"{"type":"Feature","geometry":null,"properties":{"\\":"\\\""}}"#)
        var text = #"{"type":"FeatureCollection","features":[ "#
        var index = 0
        while text.utf8.count < 1_300_000 {
            if index > 0 { text += [",", ", ", ",\n  ", " ,\t"][index % 4] }
            text += features[index % features.count]
            index += 1
        }
        return Array((text + "\n]}").utf8)
    }()

    @Test func aLargeDocumentIsReadOnBothCoresAsTheTreeReadsIt() async throws {
        let bytes = Self.large
        let (fast, tree, alone, halves) = try await OwnThread.run { () -> (Outcome, Outcome, [Feature]?, Int?) in
            let (fast, tree) = Self.both(bytes)
            let halves = try bytes.withUnsafeBufferPointer { buffer -> Int? in
                var reader = FeatureCollectionReader(parser: JSONParser(bytes: buffer))
                reader.parser.index = bytes.firstIndex(of: UInt8(ascii: "["))!
                try reader.parser.beginArray()
                return try reader.featuresOnBothCores()?.count
            }
            return (fast, tree, Self.fastOnly(bytes), halves)
        }
        #expect(fast == tree)
        guard case .read(let collection) = tree else {
            Issue.record("the large document does not read: \(tree)")
            return
        }
        #expect(alone == collection.features)
        #expect(halves == collection.features.count && collection.features.count > 64)
    }

    /// Departures in either half and at the split: what the fast reader takes is what the tree reads, and where it
    /// declines the tree says why.
    @Test func aLargeDocumentWithFaultsReadsAsTheTreeReadsIt() async throws {
        let text = String(decoding: Self.large, as: UTF8.self)
        let middle = text.utf8.count / 2
        func edit(_ at: Int, _ transform: (String, String.Index) -> String) -> [UInt8] {
            // The first separator comma at or after `at`, outside strings (a `},{`-like spot).
            let utf8 = Array(text.utf8)
            var index = at
            while index + 1 < utf8.count && !(utf8[index] == UInt8(ascii: ",") && utf8[index - 1] == UInt8(ascii: "}") && [UInt8(ascii: "{"), UInt8(ascii: " "), UInt8(ascii: "\n")].contains(utf8[index + 1])) { index += 1 }
            return Array(transform(text, text.utf8.index(text.utf8.startIndex, offsetBy: index)).utf8)
        }
        let documents: [[UInt8]] = [
            edit(middle) { text, comma in String(text[..<comma]) + String(text[text.index(after: comma)...]) },
            edit(1_000) { text, comma in String(text[..<comma]) + ",," + String(text[text.index(after: comma)...]) },
            edit(middle) { text, comma in String(text[...comma]) + "5," + String(text[text.index(after: comma)...]) },
            edit(middle + 10_000) { text, comma in String(text[...comma]) + #"{"type":"Feature","type":"Feature","geometry":null},"# + String(text[text.index(after: comma)...]) },
            Array((String(text.dropLast(3)) + ",\n]}").utf8),
            Array(text.utf8.dropLast(2)),
            Array(text.replacingOccurrences(of: #""x\"]}{[""#, with: #""x"]}{[""#).utf8),
        ]
        for bytes in documents {
            let (fast, tree, alone) = try await OwnThread.run { () -> (Outcome, Outcome, [Feature]?) in
                let (fast, tree) = Self.both(bytes)
                return (fast, tree, Self.fastOnly(bytes))
            }
            #expect(fast == tree)
            if let alone { #expect(tree == .read(FeatureCollection(features: alone))) }
            if case .read = tree { continue }
            #expect(alone == nil)
        }
    }
}
