import Foundation
import MapDepotCore
import ReplicationCore
import Synchronization
import Testing
import TestSupport
import ZipPackaging

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
        let clock: TestClock

        func makeWriter(keyPrefix: String, alwaysWriteFeatureFile: Bool) throws -> any ReplicaWriter {
            SlowWriter(
                base: try base.makeWriter(keyPrefix: keyPrefix, alwaysWriteFeatureFile: alwaysWriteFeatureFile), delay: delay, phase: phase, clock: clock
            )
        }
    }

    final class SlowWriter: ReplicaWriter {
        let base: any ReplicaWriter
        let delay: Duration
        let phase: Phase
        let clock: TestClock
        init(base: any ReplicaWriter, delay: Duration, phase: Phase, clock: TestClock) {
            self.base = base
            self.delay = delay
            self.phase = phase
            self.clock = clock
        }
        func add(feature: String) throws { try base.add(feature: feature) }
        func add(deletedId: String) throws { try base.add(deletedId: deletedId) }
        func finish() async throws -> [ReplicaFile] {
            phase.set(true)
            // Also when the sleep is cancelled (the producer drops a production whose lease was taken): the test
            // waits for this phase to end.
            defer { phase.set(false) }
            try await clock.sleep(for: delay)
            return try await base.finish()
        }
    }

    @Test func aProductionLongerThanItsLeaseKeepsTheChain() async throws {
        let harness = try await ReplicationHarness()
        _ = try await harness.store.createLayer(LayerDraft(layerId: 1, layerName: "l", geometryTypes: [.point]), now: harness.clock.now())
        let service = ReplicationService(store: harness.store, producer: harness.producer, artifacts: harness.artifacts, clock: harness.clock)
        _ = try await service.applyChanges(changes(upserts: (0..<5).map { point("{\($0)}", Double($0), 0) }), layerId: 1)
        let phase = Phase()
        // A 30 s lease renewed every 10 s; the writer takes 40 s, so an unrenewed lease would run out before it ends. The
        // test moves the producer's clock itself, one second at a time, and probes after each step once the renewal
        // woken by it has gone back to sleep: the scenario takes milliseconds, and a loaded machine cannot make a
        // renewal late (with real time it needed leases of 30 s and a 40 s test; issue #10).
        let clock = TestClock(harness.clock.now(), sleeping: .manual)
        let producer = ReplicaProducer(
            store: harness.store,
            packaging: SlowPackaging(base: ZipReplicaPackaging(artifacts: harness.artifacts), delay: .seconds(40), phase: phase, clock: clock),
            artifacts: harness.artifacts, clock: clock, chainLease: 30, exclusive: false
        )
        let production = Task { try await producer.produce(layerId: 1, type: .point, replicaType: .snapshot) }
        // The slow phase has begun when both the writer and the renewal sleep.
        try await clock.waitForSleepers(2)
        #expect(phase.isSlow)
        let started = clock.now()
        var intrusions = 0
        var probes = 0
        while phase.isSlow, clock.now().timeIntervalSince(started) < 120 {
            clock.advance(1)
            // Until the renewal is asleep again (2 sleepers), or the writer finished and the production ends.
            let real = ContinuousClock()
            let deadline = real.now + .seconds(30)
            while phase.isSlow, clock.sleepers < 2, real.now < deadline { try await Task.sleep(for: .milliseconds(1)) }
            guard phase.isSlow else { break }
            let now = clock.now()
            let taken = try await harness.store.acquireChain(layerId: 1, type: .point, owner: "intruder", until: now.addingTimeInterval(30), now: now)
            probes += 1
            if taken {
                intrusions += 1
                try await harness.store.releaseChain(layerId: 1, type: .point, owner: "intruder")
            }
        }
        #expect(intrusions == 0, "another node took the chain \(intrusions) times during the production")
        let snapshot = try #require(try await production.value)
        #expect(probes >= 35, "the tries must outlast the lease to mean anything (\(probes) one second apart)")
        #expect(snapshot.sequenceNumber == 1)
        #expect(try harness.contents(snapshot).features.count == 5)
        // Released at the end: the chain is free again.
        let now = clock.now()
        #expect(try await harness.store.acquireChain(layerId: 1, type: .point, owner: "next", until: now.addingTimeInterval(1), now: now))
    }
}
