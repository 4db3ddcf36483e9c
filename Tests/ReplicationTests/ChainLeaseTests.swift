import Foundation
import MapDepotCore
import ReplicationCore
import Storage
import Synchronization
import Testing
import TestSupport

/// Issue #5: a replica production that takes longer than its chain lease keeps the chain (the lease is renewed while
/// it runs), so no other node can start a second production of the same chain meanwhile.
struct ChainLeaseTests {
    /// Whether a production is inside its slow phase (its writer is finishing).
    final class Phase: Sendable {
        private let slow = Mutex(false)
        var isSlow: Bool { slow.withLock { $0 } }
        func set(_ value: Bool) { slow.withLock { $0 = value } }
    }

    /// Writers that take `delay` to finish: a production longer than the lease.
    struct SlowPackaging: ReplicaPackaging {
        let base: any ReplicaPackaging
        let delay: Duration
        let phase: Phase

        func makeWriter(keyPrefix: String, alwaysWriteFeatureFile: Bool) throws -> any ReplicaWriter {
            SlowWriter(base: try base.makeWriter(keyPrefix: keyPrefix, alwaysWriteFeatureFile: alwaysWriteFeatureFile), delay: delay, phase: phase)
        }
    }

    final class SlowWriter: ReplicaWriter {
        let base: any ReplicaWriter
        let delay: Duration
        let phase: Phase
        init(base: any ReplicaWriter, delay: Duration, phase: Phase) {
            self.base = base
            self.delay = delay
            self.phase = phase
        }
        func add(feature: String) throws { try base.add(feature: feature) }
        func add(deletedId: String) throws { try base.add(deletedId: deletedId) }
        func finish() async throws -> [ReplicaFile] {
            phase.set(true)
            // Also when the sleep is cancelled (the producer drops a production whose lease was taken): the test
            // waits for this phase to end.
            defer { phase.set(false) }
            try await Task.sleep(for: delay)
            return try await base.finish()
        }
    }

    @Test func aProductionLongerThanItsLeaseKeepsTheChain() async throws {
        let harness = try await ReplicationHarness()
        _ = try await harness.store.createLayer(LayerDraft(layerId: 1, layerName: "l", geometryTypes: [.point]), now: harness.clock.now())
        let service = ReplicationService(store: harness.store, producer: harness.producer, clock: harness.clock)
        _ = try await service.applyChanges(changes(upserts: (0..<5).map { point("{\($0)}", Double($0), 0) }), layerId: 1)
        let phase = Phase()
        // A 30 s lease renewed every 10 s; the writer takes 40 s, so an unrenewed lease would run out before it ends.
        // The margin is wide on purpose: while the rest of the suite computes on the 2 cooperative threads of a 2-core
        // machine, a renewal's timer fires up to 2.7 s late (measured under a CPU hog), and shorter leases (4 s
        // renewed every 1.3 s, 6/2 s, 10/3.3 s) were each taken over at least once in such runs.
        let producer = ReplicaProducer(
            store: harness.store,
            packaging: SlowPackaging(base: ZipReplicaPackaging(artifacts: harness.artifacts), delay: .seconds(40), phase: phase),
            artifacts: harness.artifacts, clock: SystemClock(), chainLease: 30, exclusive: false
        )
        let production = Task { try await producer.produce(layerId: 1, type: .point, replicaType: .snapshot) }
        // Another node tries to take the chain every 100 ms while the production is in its slow phase (it holds the
        // lease from before that phase began). Only tries made wholly inside the phase count.
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(120)
        while !phase.isSlow, clock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let started = clock.now
        var probing = Duration.zero
        var intrusions = 0
        while phase.isSlow, clock.now < deadline {
            let now = Date()
            let taken = try await harness.store.acquireChain(layerId: 1, type: .point, owner: "intruder", until: now.addingTimeInterval(30), now: now)
            if taken {
                try await harness.store.releaseChain(layerId: 1, type: .point, owner: "intruder")
                if phase.isSlow { intrusions += 1 }
            }
            if phase.isSlow { probing = clock.now - started }
            try await Task.sleep(for: .milliseconds(100))
        }
        if phase.isSlow { production.cancel() }  // past the deadline: end the test rather than wait forever
        #expect(intrusions == 0, "another node took the chain \(intrusions) times during the production")
        let snapshot = try #require(try await production.value)
        #expect(probing > .seconds(32), "the tries must outlast the lease to mean anything (they lasted \(probing))")
        #expect(snapshot.sequenceNumber == 1)
        #expect(try harness.contents(snapshot).features.count == 5)
        // Released at the end: the chain is free again.
        let now = Date()
        #expect(try await harness.store.acquireChain(layerId: 1, type: .point, owner: "next", until: now.addingTimeInterval(1), now: now))
    }
}
