import Crypto
import FileStorage
import Foundation
import JSONValues
import MapDepotCore
import ReplicationCore
import Testing
import TestSupport

/// `state.json` (issue #14 item 5): after every publication, per layer and geometry type, the newest snapshot and delta
/// with files a plain file server can serve (paths relative to the state file, present, of the listed size and hash).
@Suite struct StateFileTests {
    @Test func theStateFileNamesTheNewestSnapshotAndDeltaWithFilesThatExist() async throws {
        let harness = try await ReplicationHarness(featuresPerFile: 2)
        _ = try await harness.store.createLayer(LayerDraft(layerId: 1, layerName: "l", geometryTypes: [.point]), now: harness.clock.now())
        let service = ReplicationService(store: harness.store, producer: harness.producer, artifacts: harness.artifacts, clock: harness.clock)
        _ = try await service.applyChanges(changes(upserts: [point("a", 1, 1), point("b", 2, 2), point("c", 3, 3)]), layerId: 1)
        harness.clock.advance(1)
        let snapshot = try #require(try await harness.producer.produce(layerId: 1, type: .point, replicaType: .snapshot))
        _ = try await service.applyChanges(changes(upserts: [point("d", 4, 4)], deletes: ["a"]), layerId: 1)
        harness.clock.advance(1)
        let delta = try #require(try await harness.producer.produce(layerId: 1, type: .point, replicaType: .delta))

        let path = try #require(harness.artifacts.localPath(for: "replicas/1/point/state.json"))
        let state = try #require(try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: path))).objectValue)
        #expect(state["sourceId"]?.stringValue == snapshot.sourceId?.uuidString.lowercased())
        let listed = try #require(state["snapshot"]?.objectValue)
        #expect(listed["sequenceNumber"] == .number(Double(snapshot.sequenceNumber)) && listed["layerHash"]?.stringValue == snapshot.layerHash)
        let newest = try #require(state["delta"]?.objectValue)
        #expect(newest["sequenceNumber"] == .number(Double(delta.sequenceNumber)) && newest["changeSequence"] == .number(2))
        #expect(newest["fromChangeSequence"] == .number(1) && newest["snapshotSequenceNumber"] == .number(Double(snapshot.sequenceNumber)))
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        for entry in [listed, newest] {
            let files = entry["files"]?.arrayValue ?? []
            #expect(!files.isEmpty)
            for file in files.compactMap(\.objectValue) {
                let data = try Data(contentsOf: folder.appendingPathComponent(try #require(file["path"]?.stringValue)))
                #expect(file["size"] == .number(Double(data.count)) && file["sha256"]?.stringValue == Hex.encode(SHA256.hash(data: data)))
            }
        }
    }
}
