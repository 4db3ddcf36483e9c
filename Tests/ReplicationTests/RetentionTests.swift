import FileStorage
import Foundation
import GeoJSON
import MapDepotCore
import ReplicationCore
import Testing
import TestSupport

/// Retention (issue #14 item 2) on a real store: after pruning, every state as of the layer's history horizon or later
/// reads exactly as before (snapshots and deltas from any kept change), the newest snapshot and what follows it stay,
/// pruned replicas' files go, and a sequence cursor below what was kept is refused with the latest snapshot.
@Suite struct RetentionTests {
    static func deltaText(_ rows: [(id: String, before: FeatureState?, after: FeatureState?)]) -> [String] {
        rows.map { "\($0.id)|\($0.before?.featureText() ?? "-")|\($0.after?.featureText() ?? "-")" }
    }

    /// 6 seeds: each makes its own database, and on PostgreSQL a dozen at once made the pass's other suites wait.
    @Test(arguments: 0..<6)
    func statesFromTheHorizonOnStayExactAndOldCursorsAreGone(seed: Int) async throws {
        var generator = SeededGenerator(seed: UInt64(seed) &+ 7000)
        let harness = try await ReplicationHarness(featuresPerFile: 3)
        _ = try await harness.store.createLayer(LayerDraft(layerId: 1, layerName: "l", geometryTypes: [.point, .polygon]), now: harness.clock.now())
        var model = ReplicaChainTests.Model()
        let service = ReplicationService(store: harness.store, producer: harness.producer, artifacts: harness.artifacts, clock: harness.clock)
        for round in 0..<8 {
            _ = try await service.applyChanges(ReplicaChainTests.randomChanges(&model, using: &generator), layerId: 1)
            harness.clock.advance(10)
            for type in [GeometryType.point, .polygon] {
                let replicaType: ReplicaType = round == 2 || round == Int.random(in: 4...6, using: &generator) ? .snapshot : .delta
                _ = try await harness.producer.produce(layerId: 1, type: type, replicaType: replicaType)
            }
        }
        let last = try #require(try await harness.store.layer(id: 1)).lastSequence
        func states() async throws -> [Int: [GeometryType: ([FeatureState], [String])]] {
            var result: [Int: [GeometryType: ([FeatureState], [String])]] = [:]
            for sequence in 0...last {
                for type in [GeometryType.point, .polygon] {
                    let snapshot = try await harness.store.snapshotPage(layerId: 1, type: type, asOf: sequence, after: "", before: nil, limit: 10_000)
                    let delta = try await harness.store.deltaPage(layerId: 1, type: type, from: sequence, to: last, after: "", limit: 10_000)
                    result[sequence, default: [:]][type] = (snapshot, Self.deltaText(delta))
                }
            }
            return result
        }
        let before = try await states()
        // Every replica, the deltas a snapshot closes its chain with included.
        var produced: [Replica] = []
        for type in [GeometryType.point, .polygon] {
            for replicaType in ReplicaType.allCases {
                var query = ReplicaQuery(layerId: 1, geometryType: type, replicaType: replicaType)
                query.afterSequence = 0
                produced += try await harness.store.replicas(query)
            }
        }

        let retention = ReplicaRetention(store: harness.store, artifacts: harness.artifacts, clock: harness.clock, window: 25)
        let report = try await retention.prune()
        let layer = try #require(try await harness.store.layer(id: 1))
        let after = try await states()
        for sequence in layer.historyFrom...last {
            for type in [GeometryType.point, .polygon] {
                #expect(after[sequence]![type]!.0 == before[sequence]![type]!.0, "seed \(seed): snapshot as of \(sequence) \(type)")
                #expect(after[sequence]![type]!.1 == before[sequence]![type]!.1, "seed \(seed): delta from \(sequence) \(type)")
            }
        }
        #expect(layer.historyFrom > 0 && report.replicas > 0, "seed \(seed): \(report), history from \(layer.historyFrom)")

        for type in [GeometryType.point, .polygon] {
            let snapshot = try #require(try await harness.store.latestReplica(layerId: 1, type: type, replicaType: .snapshot, origin: .produced))
            let cutoff = min(harness.clock.now().addingTimeInterval(-25), snapshot.timestamp)
            let chain = produced.filter { $0.geometryType == type }
            var removed: [ReplicaType: Int] = [:]
            for replica in chain {
                let kept = try await harness.store.replica(id: replica.replicaId) != nil
                let newest = chain.filter { $0.replicaType == replica.replicaType }.map(\.sequenceNumber).max() == replica.sequenceNumber
                #expect(kept == (replica.timestamp >= cutoff || newest), "seed \(seed) \(type) \(replica.replicaType) \(replica.sequenceNumber)")
                for file in replica.files { #expect((harness.artifacts.localPath(for: file.key) != nil) == kept) }
                if !kept { removed[replica.replicaType] = max(removed[replica.replicaType] ?? 0, replica.sequenceNumber) }
                // The history a kept delta needs is kept.
                if kept, replica.replicaType == .delta { #expect((replica.fromChangeSequence ?? 0) >= layer.historyFrom) }
            }
            for replicaType in ReplicaType.allCases {
                let through = try await harness.store.prunedThrough(layerId: 1, type: type, replicaType: replicaType)
                #expect(through == removed[replicaType] ?? 0)
                var query = ReplicaQuery(layerId: 1, geometryType: type, replicaType: replicaType)
                query.afterSequence = through
                _ = try await service.replicaPage(query)
                if through > 0 {
                    query.afterSequence = through - 1
                    await #expect(throws: ReplicaHistoryGone.self) { try await service.replicaPage(query) }
                }
            }
        }
        // Production goes on from the kept state: the next snapshot is the model.
        harness.clock.advance(10)
        let next = try #require(try await harness.producer.produce(layerId: 1, type: .point, replicaType: .snapshot))
        #expect(Set(try harness.contents(next).features.keys) == Set(model.alive.filter { GeometryType($0.value.geometry!) == .point }.keys))
    }
}
