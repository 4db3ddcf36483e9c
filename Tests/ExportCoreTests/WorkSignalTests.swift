import ExportCore
import Testing
import TestSupport

/// The in-process wake-up: a notification after a waiter's generation ends its wait, whether it came before or
/// after the waiter parked (no lost wake-up); without one a wait ends at its timeout; a cancelled waiter returns.
struct WorkSignalTests {
    @Test func aNotificationSinceTheWaitersGenerationEndsEveryWait() async throws {
        let signal = WorkSignal()
        let clock = ContinuousClock()
        let seen = signal.generation
        // Notified before anyone waits: waits that start from the older generation return at once.
        signal.notify()
        #expect(signal.generation == seen + 1)
        let started = clock.now
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<5 { group.addTask { await signal.wait(since: seen, timeout: .seconds(600), clock: TestClock(sleeping: .manual)) } }
        }
        #expect(clock.now - started < .seconds(300))

        // Notified while they wait: they return however late they parked.
        let current = signal.generation
        let waiting = clock.now
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<5 { group.addTask { await signal.wait(since: current, timeout: .seconds(600), clock: TestClock(sleeping: .manual)) } }
            group.addTask { signal.notify() }
        }
        #expect(clock.now - waiting < .seconds(300))
    }

    @Test func withoutANotificationAWaitEndsAtItsTimeout() async throws {
        let signal = WorkSignal()
        let clock = TestClock(sleeping: .manual)
        let waiter = Task { await signal.wait(since: signal.generation, timeout: .seconds(100), clock: clock) }
        try await clock.waitForSleepers(1)
        clock.advance(99)
        #expect(clock.sleepers == 1, "not before its timeout")
        clock.advance(1)
        await waiter.value
        #expect(clock.sleepers == 0)
    }

    @Test func aCancelledWaiterReturns() async throws {
        let signal = WorkSignal()
        let waiter = Task { await signal.wait(since: signal.generation, timeout: .seconds(600), clock: TestClock(sleeping: .manual)) }
        waiter.cancel()
        let clock = ContinuousClock()
        let cancelled = clock.now
        await waiter.value
        #expect(clock.now - cancelled < .seconds(300))
    }
}
