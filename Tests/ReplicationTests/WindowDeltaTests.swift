import Foundation
import GeoJSON
import Geometry
import JSONValues
import MapDepotCore
import ReplicationCore
import Testing
import TestSupport

/// Deltas over any window and area (issue #14 item 4) on a real store: the features of an area as of T1, with the
/// window delta (T1, T2, area) applied, are the features of that area as of T2, for random change chains; the same
/// window asked again is the cache's.
@Suite struct WindowDeltaTests {
    static func inArea(_ states: [FeatureState], _ area: BoundingBox) throws -> [String: String] {
        var result: [String: String] = [:]
        for state in states {
            let geometry = try GeoJSONGeometry(json: try JSONValue.parse(Data(state.geometry.utf8)), path: "")
            if area.meets(geometry) { result[state.id] = state.featureText() }
        }
        return result
    }

    /// 20 seeds, each on a layer of its own in one store: a database per seed made the PostgreSQL pass's other suites wait.
    @Test func anAreaAsOfT1PlusItsWindowDeltaIsTheAreaAsOfT2() async throws {
        let harness = try await ReplicationHarness(featuresPerFile: 3)
        for seed in 0..<20 {
            try await Self.check(seed: seed, harness: harness)
        }
    }

    static func check(seed: Int, harness: ReplicationHarness) async throws {
        var generator = SeededGenerator(seed: UInt64(seed) &+ 9000)
        let layerId = seed + 1
        _ = try await harness.store.createLayer(LayerDraft(layerId: layerId, layerName: "l\(seed)", geometryTypes: [.point, .polygon]), now: harness.clock.now())
        var model = ReplicaChainTests.Model()
        let service = ReplicationService(store: harness.store, producer: harness.producer, artifacts: harness.artifacts, clock: harness.clock)
        for _ in 0..<Int.random(in: 3...10, using: &generator) {
            harness.clock.advance(1)
            _ = try await service.applyChanges(ReplicaChainTests.randomChanges(&model, using: &generator), layerId: layerId)
        }
        let last = try #require(try await harness.store.layer(id: layerId)).lastSequence
        let from = Int.random(in: 0...last, using: &generator)
        let to = Int.random(in: from...last, using: &generator)
        // Points sit at x 0, 1 or 2 (y 1); squares span [x, x+1]: this area holds some of each, and some move in and out.
        let area = BoundingBox(minX: 0.5, minY: 0, maxX: 1.5, maxY: 2)
        for type in [GeometryType.point, .polygon] {
            let answer = try await service.windowDelta(layerId: layerId, WindowRequest(geometryType: type, from: .sequence(from), to: .sequence(to), bbox: area))
            #expect(!answer.cached && answer.delta.fromChangeSequence == from && answer.delta.changeSequence == to)
            let before = try Self.inArea(try await harness.store.snapshotPage(layerId: layerId, type: type, asOf: from, after: "", before: nil, limit: 10_000), area)
            let after = try Self.inArea(try await harness.store.snapshotPage(layerId: layerId, type: type, asOf: to, after: "", before: nil, limit: 10_000), area)
            let replica = Replica(
                replicaId: answer.delta.buildId, layerId: layerId, geometryType: type, replicaType: .delta, sequenceNumber: 0, timestamp: Date(),
                fromTimestamp: nil, changeSequence: to, fromChangeSequence: from, files: answer.delta.files
            )
            let changes = try harness.contents(replica)
            var applied = before
            for id in changes.deleted {
                #expect(applied.removeValue(forKey: id) != nil, "seed \(seed) \(type): deleted \(id) was not in the area before")
            }
            for (id, feature) in changes.features {
                var plain = feature
                let diff = plain.removeValue(forKey: "diff")?.objectValue
                applied[id] = CanonicalJSON.text(.object(plain))
                if before[id] == nil { #expect(diff?["isGeometryChanged"] == .bool(true), "seed \(seed): entering the area is a creation") }
            }
            // Texts compared as JSON values (key order of the canonical encoding is the server's).
            #expect(
                applied.mapValues { try? JSONValue.parse(Data($0.utf8)) } == after.mapValues { try? JSONValue.parse(Data($0.utf8)) },
                "seed \(seed) \(type) window \(from)…\(to)"
            )
            // The same question is the cache's: same build, same files.
            let again = try await service.windowDelta(layerId: layerId, WindowRequest(geometryType: type, from: .sequence(from), to: .sequence(to), bbox: area))
            #expect(again.cached && again.delta.buildId == answer.delta.buildId && again.delta.files == answer.delta.files)
            // Without an area, a window from a delta's start to its end is that delta.
            let whole = try await service.windowDelta(layerId: layerId, WindowRequest(geometryType: type, from: .sequence(from), to: .sequence(to)))
            let rows = try await harness.store.deltaPage(layerId: layerId, type: type, from: from, to: to, after: "", limit: 10_000)
            let expected = try rows.filter { try DeltaRule.entry(before: $0.before, after: $0.after) != nil }.count
            #expect(whole.delta.files.reduce(0) { $0 + $1.features + $1.deletions } == expected, "seed \(seed) \(type)")
        }
    }
}
