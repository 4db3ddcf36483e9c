import ExportCore
import Testing

/// The in-process wake-up: a notify ends every current wait at once; without one a wait ends at its timeout; a
/// cancelled waiter returns; a notify with nobody waiting is not remembered (the next look for work covers it).
struct WorkSignalTests {
    @Test func notifyWakesEveryWaiterAndTimeoutsEndWaits() async throws {
        let signal = WorkSignal()
        let clock = ContinuousClock()
        let started = clock.now
        await withTaskGroup(of: Duration.self) { group in
            for _ in 0..<5 {
                group.addTask {
                    await signal.wait(timeout: .seconds(60))
                    return clock.now - started
                }
            }
            try? await Task.sleep(for: .milliseconds(200))
            signal.notify()
            for await waited in group { #expect(waited < .seconds(30)) }
        }
        let timedOut = clock.now
        await signal.wait(timeout: .milliseconds(100))
        #expect(clock.now - timedOut >= .milliseconds(100))
    }

    @Test func aCancelledWaiterReturns() async throws {
        let signal = WorkSignal()
        let waiter = Task { await signal.wait(timeout: .seconds(60)) }
        try await Task.sleep(for: .milliseconds(50))
        waiter.cancel()
        let clock = ContinuousClock()
        let cancelled = clock.now
        await waiter.value
        #expect(clock.now - cancelled < .seconds(30))
        // Nobody is waiting: a notify now is dropped, and a later wait runs to its timeout.
        signal.notify()
        let later = clock.now
        await signal.wait(timeout: .milliseconds(100))
        #expect(clock.now - later >= .milliseconds(100))
    }
}
