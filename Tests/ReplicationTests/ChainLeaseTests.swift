import Foundation
import MapDepotCore
import ReplicationCore
import Storage
import Testing
import TestSupport

/// Issue #5: a replica production that takes longer than its chain lease keeps the chain (the lease is renewed while
/// it runs), so no other node can start a second production of the same chain meanwhile.
struct ChainLeaseTests {
    /// Writers that take `delay` to finish: a production longer than the lease.
    struct SlowPackaging: ReplicaPackaging {
        let base: any ReplicaPackaging
        let delay: Duration

        func makeWriter(keyPrefix: String, alwaysWriteFeatureFile: Bool) throws -> any ReplicaWriter {
            SlowWriter(base: try base.makeWriter(keyPrefix: keyPrefix, alwaysWriteFeatureFile: alwaysWriteFeatureFile), delay: delay)
        }
    }

    final class SlowWriter: ReplicaWriter {
        let base: any ReplicaWriter
        let delay: Duration
        init(base: any ReplicaWriter, delay: Duration) {
            self.base = base
            self.delay = delay
        }
        func add(feature: String) throws { try base.add(feature: feature) }
        func add(deletedId: String) throws { try base.add(deletedId: deletedId) }
        func finish() async throws -> [ReplicaFile] {
            try await Task.sleep(for: delay)
            return try await base.finish()
        }
    }

    @Test func aProductionLongerThanItsLeaseKeepsTheChain() async throws {
        let harness = try await ReplicationHarness()
        _ = try await harness.store.createLayer(LayerDraft(layerId: 1, layerName: "l", geometryTypes: [.point]), now: harness.clock.now())
        let service = ReplicationService(store: harness.store, producer: harness.producer, clock: harness.clock)
        _ = try await service.applyChanges(changes(upserts: (0..<5).map { point("{\($0)}", Double($0), 0) }), layerId: 1)
        let producer = ReplicaProducer(
            store: harness.store, packaging: SlowPackaging(base: ZipReplicaPackaging(artifacts: harness.artifacts), delay: .seconds(14)),
            artifacts: harness.artifacts, clock: SystemClock(), chainLease: 10, exclusive: false
        )
        let production = Task { try await producer.produce(layerId: 1, type: .point, replicaType: .snapshot) }
        // Another node tries to take the chain for 12 s, past the 10 s lease. (Long, because a loaded 2-core CI machine
        // can starve the renewal for seconds; it only fails if the renewal stalls for more than 6.7 s.)
        // Wait until the producer holds the chain (on a loaded machine it may take a while to start).
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let now = Date()
            guard try await harness.store.acquireChain(layerId: 1, type: .point, owner: "intruder", until: now.addingTimeInterval(0.05), now: now) else { break }
            try await harness.store.releaseChain(layerId: 1, type: .point, owner: "intruder")
            try await Task.sleep(for: .milliseconds(20))
        }
        var intrusions = 0
        for _ in 0..<60 {
            let now = Date()
            if try await harness.store.acquireChain(layerId: 1, type: .point, owner: "intruder", until: now.addingTimeInterval(10), now: now) {
                intrusions += 1
                try await harness.store.releaseChain(layerId: 1, type: .point, owner: "intruder")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        let snapshot = try #require(try await production.value)
        #expect(intrusions == 0, "another node took the chain \(intrusions) times during the production")
        #expect(snapshot.sequenceNumber == 1)
        #expect(try harness.contents(snapshot).features.count == 5)
        // Released at the end: the chain is free again.
        let now = Date()
        #expect(try await harness.store.acquireChain(layerId: 1, type: .point, owner: "next", until: now.addingTimeInterval(1), now: now))
    }
}
