import ExportCore
import Testing

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
            for _ in 0..<5 { group.addTask { await signal.wait(since: seen, timeout: .seconds(600)) } }
        }
        #expect(clock.now - started < .seconds(300))

        // Notified while they wait: they return however late they parked.
        let current = signal.generation
        let waiting = clock.now
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<5 { group.addTask { await signal.wait(since: current, timeout: .seconds(600)) } }
            group.addTask { signal.notify() }
        }
        #expect(clock.now - waiting < .seconds(300))
    }

    @Test func withoutANotificationAWaitEndsAtItsTimeout() async {
        let signal = WorkSignal()
        let clock = ContinuousClock()
        let started = clock.now
        await signal.wait(since: signal.generation, timeout: .milliseconds(100))
        #expect(clock.now - started >= .milliseconds(100))
    }

    @Test func aCancelledWaiterReturns() async throws {
        let signal = WorkSignal()
        let waiter = Task { await signal.wait(since: signal.generation, timeout: .seconds(600)) }
        waiter.cancel()
        let clock = ContinuousClock()
        let cancelled = clock.now
        await waiter.value
        #expect(clock.now - cancelled < .seconds(300))
    }
}
