import FileStorage
import Foundation
import GeoJSON
import JSONValues
import MapDepotCore
import ReplicationCore
import Testing
import TestSupport
import ZipPackaging

/// Random change sequences on a real store: snapshot(T1) + delta(T1, T2) must equal snapshot(T2), feature
/// for feature, and the delta must hold exactly what differs, with the right diffs.
@Suite struct ReplicaChainTests {
    struct Model {
        var alive: [String: Feature] = [:]
    }

    /// One random change set over a pool of ids: creates, modifies (sometimes back to an earlier state),
    /// deletes, and geometry type switches.
    static func randomChanges(_ model: inout Model, using generator: inout SeededGenerator) -> ChangeRequest {
        var upserts: [Feature] = []
        var deletes: [String] = []
        var used = Set<String>()
        for _ in 0..<Int.random(in: 1...6, using: &generator) {
            let id = "{\(Int.random(in: 0..<14, using: &generator))}"
            guard used.insert(id).inserted else { continue }
            if model.alive[id] != nil && Bool.random(using: &generator) && Int.random(in: 0..<3, using: &generator) == 0 {
                deletes.append(id)
                model.alive[id] = nil
                continue
            }
            var properties: [String: JSONValue] = ["name": .string("n\(Int.random(in: 0..<3, using: &generator))")]
            if Bool.random(using: &generator) { properties["height"] = .number(Double(Int.random(in: 0..<3, using: &generator))) }
            let x = Double(Int.random(in: 0..<3, using: &generator))
            let feature = Int.random(in: 0..<4, using: &generator) == 0 ? square(id, x, 1, properties) : point(id, x, 1, properties)
            upserts.append(feature)
            model.alive[id] = feature
        }
        if upserts.isEmpty && deletes.isEmpty { return randomChanges(&model, using: &generator) }
        return changes(upserts: upserts, deletes: deletes)
    }

    static func withoutDiff(_ feature: [String: JSONValue]) -> [String: JSONValue] {
        var copy = feature
        copy["diff"] = nil
        return copy
    }

    @Test(arguments: 0..<30)
    func snapshotPlusDeltaEqualsNextSnapshot(seed: Int) async throws {
        var generator = SeededGenerator(seed: UInt64(seed) &+ 1000)
        let harness = try await ReplicationHarness(featuresPerFile: 3)
        let layer = try await harness.store.createLayer(LayerDraft(layerId: 1, layerName: "l", geometryTypes: [.point, .polygon]), now: harness.clock.now())
        var model = Model()
        let service = ReplicationService(store: harness.store, producer: harness.producer, artifacts: harness.artifacts, clock: harness.clock)
        for _ in 0..<Int.random(in: 0...5, using: &generator) {
            _ = try await service.applyChanges(Self.randomChanges(&model, using: &generator), layerId: layer.layerId)
        }
        var snapshots: [GeometryType: Replica] = [:]
        for type in GeometryType.allCases where type != .linestring {
            harness.clock.advance(1)
            snapshots[type] = try await harness.producer.produce(layerId: 1, type: type, replicaType: .snapshot)
        }
        for _ in 0..<Int.random(in: 1...8, using: &generator) {
            _ = try await service.applyChanges(Self.randomChanges(&model, using: &generator), layerId: layer.layerId)
        }
        for type in [GeometryType.point, .polygon] {
            harness.clock.advance(1)
            let delta = try #require(try await harness.producer.produce(layerId: 1, type: type, replicaType: .delta))
            harness.clock.advance(1)
            let next = try #require(try await harness.producer.produce(layerId: 1, type: type, replicaType: .snapshot))
            let before = try harness.contents(snapshots[type]!).features
            let after = try harness.contents(next).features
            let changes = try harness.contents(delta)
            #expect(delta.fromChangeSequence == snapshots[type]!.changeSequence)
            #expect(delta.changeSequence == next.changeSequence)
            // The layer hash after the delta is the next snapshot's, and a client recomputes it from the features it
            // holds: SHA-256 of each feature's canonical text, XORed (issue #14).
            #expect(delta.layerHash != nil && delta.layerHash == next.layerHash, "seed \(seed) \(type)")
            var recomputed = LayerHash()
            for (id, feature) in after {
                recomputed.toggle(
                    #"{"type":"Feature","id":"# + CanonicalJSON.text(.string(id)) + #","geometry":"# + CanonicalJSON.text(feature["geometry"] ?? .null)
                        + #","properties":"# + CanonicalJSON.text(feature["properties"] ?? .object([:])) + "}"
                )
            }
            #expect(recomputed.hex == next.layerHash, "seed \(seed) \(type)")
            #expect(delta.fromTimestamp == snapshots[type]!.timestamp)

            // Apply the delta to the earlier snapshot: the result is the later one.
            var applied = before
            for id in changes.deleted { applied[id] = nil }
            for (id, feature) in changes.features { applied[id] = Self.withoutDiff(feature) }
            #expect(applied == after, "seed \(seed) \(type)")

            // Exactly the features that differ are in the delta, with the right diff.
            let differing = Set(before.keys).union(after.keys).filter { before[$0] != after[$0] }
            #expect(Set(changes.features.keys).union(changes.deleted) == differing)
            #expect(Set(changes.deleted) == Set(before.keys).subtracting(after.keys))
            for (id, feature) in changes.features {
                let diff = feature["diff"]?.objectValue ?? [:]
                let old = before[id]
                let new = after[id] ?? [:]
                #expect(diff["isGeometryChanged"] == .bool(old?["geometry"] != new["geometry"]))
                let oldTags = old?["properties"]?.objectValue ?? [:]
                let newTags = new["properties"]?.objectValue ?? [:]
                let expected = old == nil ? newTags.keys.sorted() : Set(oldTags.keys).union(newTags.keys).filter { oldTags[$0] != newTags[$0] }.sorted()
                #expect(diff["changedTags"] == .array(expected.map(JSONValue.string)))
            }
            // And the later snapshot is the model.
            let expected = model.alive.filter { GeometryType($0.value.geometry!) == type }
            #expect(Set(after.keys) == Set(expected.keys))
        }
    }

    @Test func createdThenDeletedAndRestoredFeaturesAppearNowhere() async throws {
        let harness = try await ReplicationHarness()
        _ = try await harness.store.createLayer(LayerDraft(layerId: 1, layerName: "l", geometryTypes: [.point]), now: harness.clock.now())
        let service = ReplicationService(store: harness.store, producer: harness.producer, artifacts: harness.artifacts, clock: harness.clock)
        _ = try await service.applyChanges(changes(upserts: [point("{keep}", 1, 1, ["a": .number(1)])]), layerId: 1)
        _ = try await harness.producer.produce(layerId: 1, type: .point, replicaType: .snapshot)
        _ = try await service.applyChanges(changes(upserts: [point("{temp}", 2, 2), point("{keep}", 5, 5, ["a": .number(2)])]), layerId: 1)
        _ = try await service.applyChanges(changes(upserts: [point("{keep}", 1, 1, ["a": .number(1)])], deletes: ["{temp}"]), layerId: 1)
        harness.clock.advance(1)
        let delta = try #require(try await harness.producer.produce(layerId: 1, type: .point, replicaType: .delta))
        #expect(delta.files.isEmpty)
        #expect(delta.changeSequence == 3)
    }

    @Test func changeSetsAreAtomicIdempotentAndGapFree() async throws {
        let harness = try await ReplicationHarness()
        _ = try await harness.store.createLayer(LayerDraft(layerId: 1, layerName: "l", geometryTypes: [.point]), now: harness.clock.now())
        let service = ReplicationService(store: harness.store, producer: harness.producer, artifacts: harness.artifacts, clock: harness.clock)
        let first = try await service.applyChanges(changes(upserts: [point("a", 0, 0)], changeId: "c-1"), layerId: 1)
        let again = try await service.applyChanges(changes(upserts: [point("b", 0, 0)], changeId: "c-1"), layerId: 1)
        #expect(first == again)
        await #expect(throws: ServiceError.self) {
            try await service.applyChanges(changes(upserts: [point("c", 0, 0)], deletes: ["missing"]), layerId: 1)
        }
        let next = try await service.applyChanges(changes(upserts: [point("a", 1, 1)], deletes: []), layerId: 1)
        #expect(next.sequenceNumber == 2 && next.modified == 1 && next.created == 0)
        let snapshot = try #require(try await harness.producer.produce(layerId: 1, type: .point, replicaType: .snapshot))
        #expect(try Set(harness.contents(snapshot).features.keys) == ["a"])
    }
}

@Suite struct ReplicaFileTests {
    @Test func zipsNeverExceedTheCapAndHoldEveryFeature() async throws {
        let harness = try await ReplicationHarness(featuresPerFile: 10, maxZipBytes: 2_500)
        _ = try await harness.store.createLayer(LayerDraft(layerId: 1, layerName: "l", geometryTypes: [.point]), now: harness.clock.now())
        let service = ReplicationService(store: harness.store, producer: harness.producer, artifacts: harness.artifacts, clock: harness.clock)
        let cities = try FeatureCollection(
            json: try JSONValue.parse(Data(contentsOf: Fixtures.sharedData.appendingPathComponent("naturalearth_cities.geojson"))), path: "c"
        ).features
        let features = cities.enumerated().map { index, city in Feature(id: .string("{\(index)}"), geometry: city.geometry, properties: city.properties) }
        _ = try await service.applyChanges(changes(upserts: features), layerId: 1)
        let snapshot = try #require(try await harness.producer.produce(layerId: 1, type: .point, replicaType: .snapshot))
        #expect(snapshot.files.count > 3)
        for file in snapshot.files {
            #expect(file.size <= 2_500)
            let attributes = try FileManager.default.attributesOfItem(atPath: try #require(harness.artifacts.localPath(for: file.key)))
            #expect((attributes[.size] as? NSNumber)?.int64Value == file.size)
            #expect(file.key.hasSuffix(".zip"))
        }
        #expect(snapshot.files.reduce(0) { $0 + $1.features } == 243)
        #expect(try harness.contents(snapshot).features.count == 243)
    }

    @Test func largeSnapshotsArePackagedInParallelRangesWithEveryFeatureOnce() async throws {
        let harness = try await ReplicationHarness(featuresPerFile: 4_000, parallelism: 3)
        _ = try await harness.store.createLayer(LayerDraft(layerId: 1, layerName: "l", geometryTypes: [.point]), now: harness.clock.now())
        let ids = (0..<24_000).map { String(format: "{%05d}", $0) }
        for chunk in stride(from: 0, to: ids.count, by: 6_000) {
            let states = ids[chunk..<(chunk + 6_000)].map { FeatureState(id: $0, geometry: .point(Position(1, 2)), properties: ["n": .string($0)]) }
            _ = try await harness.store.apply(ChangeSet(upserts: states, deletes: [], changeId: nil), layerId: 1, now: Date())
        }
        let snapshot = try #require(try await harness.producer.produce(layerId: 1, type: .point, replicaType: .snapshot))
        #expect(snapshot.files.count >= 3)
        #expect(snapshot.files.reduce(0) { $0 + $1.features } == 24_000)
        let features = try harness.contents(snapshot).features
        #expect(Set(features.keys) == Set(ids))
    }

    @Test func aFeatureLargerThanTheCapIsRefusedAndNothingIsPublished() async throws {
        let harness = try await ReplicationHarness(featuresPerFile: 10, maxZipBytes: 400)
        _ = try await harness.store.createLayer(LayerDraft(layerId: 1, layerName: "l", geometryTypes: [.polygon]), now: harness.clock.now())
        let service = ReplicationService(store: harness.store, producer: harness.producer, artifacts: harness.artifacts, clock: harness.clock)
        let russia = try Fixtures.country("Russia")
        _ = try await service.applyChanges(changes(upserts: [Feature(id: .string("{ru}"), geometry: russia.geometry, properties: [:])]), layerId: 1)
        await #expect(throws: ServiceError.self) { try await harness.producer.produce(layerId: 1, type: .polygon, replicaType: .snapshot) }
        #expect(try await harness.store.replicas(ReplicaQuery(layerId: 1, geometryType: .polygon, replicaType: .snapshot)).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: harness.directory + "/artifacts/replicas/1"))
    }

    @Test func aProducerKilledMidWriteLeavesNothingVisibleAndTheNextRunIsComplete() async throws {
        // First life: the producer dies after 5 features, as a kill would stop it.
        let dying = try await ReplicationHarness(featuresPerFile: 2) { FailingPackaging(inner: ZipReplicaPackaging(artifacts: $0, featuresPerFile: 2), limit: 5) }
        _ = try await dying.store.createLayer(LayerDraft(layerId: 1, layerName: "l", geometryTypes: [.point]), now: dying.clock.now())
        let service = ReplicationService(store: dying.store, producer: dying.producer, artifacts: dying.artifacts, clock: dying.clock)
        _ = try await service.applyChanges(changes(upserts: (0..<12).map { point("{\($0)}", Double($0), 0) }), layerId: 1)
        await #expect(throws: (any Error).self) { try await dying.producer.produce(layerId: 1, type: .point, replicaType: .snapshot) }
        #expect(try await dying.store.replicas(ReplicaQuery(layerId: 1, geometryType: .point, replicaType: .snapshot)).isEmpty)

        // A hard kill leaves a hidden row and staged zips; the next start removes them and produces again.
        let hidden = Replica(
            replicaId: UUID(), layerId: 1, geometryType: .point, replicaType: .snapshot, sequenceNumber: 1, timestamp: Date(),
            fromTimestamp: nil, changeSequence: 1, fromChangeSequence: nil, files: []
        )
        try await dying.store.insertHiddenReplica(hidden)
        let staged = try dying.artifacts.stagingPath(for: ReplicaProducer.keyPrefix(hidden) + "/half.zip")
        _ = FileManager.default.createFile(atPath: staged, contents: Data("PK".utf8))
        let restarted = ReplicaProducer(
            store: dying.store, packaging: ZipReplicaPackaging(artifacts: dying.artifacts, featuresPerFile: 2), artifacts: dying.artifacts,
            clock: dying.clock, chainLease: 600
        )
        #expect(try await restarted.recover() == 1)
        #expect(!FileManager.default.fileExists(atPath: staged))
        let snapshot = try #require(try await restarted.produce(layerId: 1, type: .point, replicaType: .snapshot))
        #expect(snapshot.sequenceNumber == 1)
        #expect(try dying.contents(snapshot).features.count == 12)
        #expect(try await dying.store.replicas(ReplicaQuery(layerId: 1, geometryType: .point, replicaType: .snapshot)).map(\.replicaId) == [snapshot.replicaId])
    }
}
