import Foundation
import GeoJSON
import JSONValues
import MapDepotCore
import PropertyBased
import ReplicationCore
import Testing
import TestSupport

/// Issue #9 item 7: mutated change sets (`POST /layers/{id}/changes` bodies), seeded from Natural Earth's cities in
/// `../shared/data`. Each is refused with a `ServiceError` that says what is wrong, or accepted with every id once and
/// only geometries the layer holds; none crashes. `MAPDEPOT_FUZZ_INPUTS` sets the count (CI: 2,000).
@Suite struct ChangeSetFuzzTests {
    static var count: Int { Int(ProcessInfo.processInfo.environment["MAPDEPOT_FUZZ_INPUTS"] ?? "") ?? 2_000 }

    static let layer = Layer(layerId: 1, layerName: "cities", geometryTypes: [.point], createdAt: Date(timeIntervalSince1970: 0), sourceId: UUID())

    /// Three real cities as upserts, and a delete.
    static let seed: [UInt8] = {
        let url = Fixtures.sharedData.appendingPathComponent("naturalearth_cities.geojson")
        let features = ((try? JSONValue.parse(Data(contentsOf: url)))?.objectValue?["features"]?.arrayValue ?? []).prefix(3)
        let upserts: [JSONValue] = features.enumerated().map { index, feature in
            var object = feature.objectValue ?? [:]
            object["id"] = .string("{city-\(index)}")
            return .object(object)
        }
        let body: JSONValue = .object([
            "upserts": .object(["type": .string("FeatureCollection"), "features": .array(upserts)]),
            "deletes": .array([.string("{gone}")]), "changeId": .string("seed"),
        ])
        return Array(String(decoding: (try? JSONEncoder().encode(body)) ?? Data(), as: UTF8.self).utf8)
    }()

    @Test func theSeedIsAccepted() throws {
        let change = try ChangeSet(json: try JSONValue.parse(Data(Self.seed)), layer: Self.layer)
        #expect(change.upserts.count == 3 && change.deletes == ["{gone}"])
    }

    @Test func mutatedChangeSetsAreRefusedClearlyOrAcceptedWhole() async {
        await propertyCheck(count: Self.count, input: Gen.int(in: 0...1_000_000).array(of: 3...30)) { edits in
            let bytes = Mutation.apply(edits, to: Self.seed)
            guard let json = try? JSONValue.parse(Data(bytes)) else { return }
            do {
                let change = try ChangeSet(json: json, layer: Self.layer)
                let ids = change.upserts.map(\.id) + change.deletes
                #expect(Set(ids).count == ids.count && !ids.contains(""), "\(ids)")
                #expect(!ids.isEmpty)
                #expect(change.upserts.allSatisfy { $0.geometryType == .point })
            } catch let error as ServiceError {
                #expect(error.kind == .invalid && !error.message.isEmpty, "\(error)")
            } catch {
                Issue.record("not a ServiceError: \(error)")
            }
        }
    }

    /// Issue #15's streamed reading of change-set bodies: ``ChangeBodySplitter`` fed in pieces of any size, the rest
    /// parsed as JSON and each feature from its own bytes, takes exactly what the tree takes and reads it the same.
    @Test func theSplitterReadsWhatTheTreeReads() async {
        func same(_ a: ChangeRequest, _ b: ChangeRequest) -> Bool { a.upserts == b.upserts && a.deletes == b.deletes && a.changeId == b.changeId }
        for piece in [1, 7, 4_096] {
            let read = try? Self.split(Self.seed, piece: piece)
            #expect(read?.upserts.count == 3 && read?.changeId == "seed" && read?.deletes == ["{gone}"], "pieces of \(piece)")
        }
        await propertyCheck(count: Self.count, input: Gen.int(in: 0...1_000_000).array(of: 3...30), Gen.int(in: 1...300)) { edits, piece in
            let bytes = Mutation.apply(edits, to: Self.seed)
            let text = String(decoding: bytes, as: UTF8.self)
            let tree = try? ChangeRequest(json: try JSONValue.parse(Data(bytes)))
            let split = try? Self.split(bytes, piece: piece)
            switch (tree, split) {
            case (let tree?, let split?): #expect(same(tree, split), "\(text)")
            case (nil, nil): break
            case (_?, nil): Issue.record("the splitter refused what the tree takes (pieces of \(piece)): \(text)")
            case (nil, _?): Issue.record("the splitter took what the tree refuses (pieces of \(piece)): \(text)")
            }
        }
    }

    @Test func aFeatureOrARestOverItsLimitIsTooLarge() throws {
        #expect(throws: ServiceError.self) { try Self.split(Self.seed, piece: 64, maxFeature: 100) }
        #expect(throws: ServiceError.self) { try Self.split(Self.seed, piece: 64, maxRest: 20) }
        do {
            _ = try Self.split(Self.seed, piece: 64, maxFeature: 100)
        } catch let error as ServiceError {
            #expect(error.kind == .payloadTooLarge && error.message.hasPrefix("upserts.features[0] is larger than the limit of 100 bytes"), "\(error)")
        }
        let escaped = Array(String(decoding: Self.seed, as: UTF8.self).replacingOccurrences(of: #""upserts""#, with: #""\u0075pserts""#).utf8)
        #expect(try Self.split(escaped, piece: 5).upserts.count == 3, "features under a key spelled with escapes stay in the rest")
    }

    /// What the server's change route reads of a body fed in pieces of `piece` bytes.
    static func split(_ bytes: [UInt8], piece: Int, maxFeature: Int = 1 << 20, maxRest: Int = 1 << 20) throws -> ChangeRequest {
        var splitter = ChangeBodySplitter(maxFeatureBytes: maxFeature, maxRestBytes: maxRest)
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + piece)
            try bytes[start..<end].withUnsafeBytes { try splitter.feed($0) }
            start = end
        }
        try splitter.finish()
        let (first, elements) = splitter.take()
        #expect(first == 0)
        var request = try ChangeRequest(json: try JSONValue.parse(Data(splitter.rest)))
        if !elements.isEmpty {
            #expect(request.upserts.isEmpty, "the rest keeps no feature the splitter took")
            request.upserts = try elements.enumerated().map { index, element in
                try element.withUnsafeBytes { try Feature(bytes: $0, path: "upserts.features[\(index)]") }
            }
        }
        return request
    }
}
