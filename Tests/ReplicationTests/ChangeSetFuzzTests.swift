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

    /// Issue #15's fast reader of change-set bodies: what it takes, the tree reads the same; it takes the seed.
    @Test func theFastReaderReadsWhatTheTreeReads() async {
        func fast(_ bytes: [UInt8]) -> ChangeRequest? { bytes.withUnsafeBufferPointer { ChangeRequest.fast($0) } }
        func same(_ a: ChangeRequest, _ b: ChangeRequest) -> Bool { a.upserts == b.upserts && a.deletes == b.deletes && a.changeId == b.changeId }
        let seed = fast(Self.seed)
        #expect(seed?.upserts.count == 3 && seed?.changeId == "seed")
        #expect(fast(Array(#"{"upserts":null,"deletes":["a\u0000"]}"#.utf8)) == nil, "U+0000 is left to the tree, which names where it is")
        await propertyCheck(count: Self.count, input: Gen.int(in: 0...1_000_000).array(of: 3...30)) { edits in
            let bytes = Mutation.apply(edits, to: Self.seed)
            guard let read = fast(bytes) else { return }
            do {
                let tree = try ChangeRequest(json: try JSONValue.parse(Data(bytes)))
                #expect(same(read, tree), "\(String(decoding: bytes, as: UTF8.self))")
            } catch {
                Issue.record("the fast reader took what the tree refuses (\(error)): \(String(decoding: bytes, as: UTF8.self))")
            }
        }
    }
}
