import MapDepotCore
import Synchronization
import Testing

/// ``Deadline`` and ``Watchdog`` (issue #9): the caller gets the work's result when it comes in time, and the timeout
/// error when the work never returns at all — the postgres-nio query written to a closed connection, which a task group with a timer
/// child would wait for forever. The work that never returns is modelled by a continuation nobody resumes, which
/// does not even end on cancellation.
@Suite struct DeadlineTests {
    struct TimedOut: Error {}
    struct Closed: Error {}

    /// Never returns, cancelled or not (released at the end of the test so that nothing leaks).
    final class Hang: Sendable {
        private let parked = Mutex<[CheckedContinuation<Void, Never>]>([])
        let entered = Mutex(0)
        func wait() async {
            await withCheckedContinuation { continuation in
                parked.withLock { $0.append(continuation) }
                entered.withLock { $0 += 1 }
            }
        }
        func release() { for continuation in parked.withLock({ list in defer { list = [] }; return list }) { continuation.resume() } }
    }

    /// A watchdog watching while `body` runs.
    func watching<T>(_ body: (Watchdog) async throws -> T) async throws -> T {
        let watchdog = Watchdog(tick: .milliseconds(20))
        let watch = Task { await watchdog.watch() }
        defer { watch.cancel() }
        return try await body(watchdog)
    }

    @Test func workThatEndsInTimeGivesItsResultAndItsError() async throws {
        try await watching { watchdog in try await workThatEndsInTime(watchdog) }
    }

    func workThatEndsInTime(_ watchdog: Watchdog) async throws {
        #expect(try await watchdog.run(within: .seconds(5), timeoutError: { TimedOut() }) { 42 } == 42)
        await #expect(throws: Closed.self) {
            try await watchdog.run(within: .seconds(5), timeoutError: { TimedOut() }) { () async throws -> Int in throw Closed() }
        }
    }

    @Test func workThatNeverReturnsIsAbandonedAtTheLimit() async throws {
        try await watching { watchdog in try await workThatNeverReturns(watchdog) }
    }

    func workThatNeverReturns(_ watchdog: Watchdog) async throws {
        let hang = Hang()
        defer { hang.release() }
        let start = ContinuousClock.now
        await #expect(throws: TimedOut.self) {
            try await watchdog.run(within: .milliseconds(200), timeoutError: { TimedOut() }) { await hang.wait(); return 1 }
        }
        let waited = ContinuousClock.now - start
        #expect(waited >= .milliseconds(200) && waited < .seconds(5), "\(waited)")
        #expect(hang.entered.withLock { $0 } == 1)
    }

    @Test func aCallbackCanAbandonTheWorkAtOnce() async throws {
        let hang = Hang()
        defer { hang.release() }
        let trigger = Mutex<(@Sendable (any Error) -> Void)?>(nil)
        let result = Task {
            try await Deadline.abandoning { abandon in
                trigger.withLock { $0 = abandon }
                await hang.wait()
                return 1
            }
        }
        while trigger.withLock({ $0 }) == nil || hang.entered.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(5)) }
        trigger.withLock { $0 }?(Closed())
        await #expect(throws: Closed.self) { try await result.value }
    }

    @Test func cancellingTheCallerCancelsTheWork() async throws {
        let watchdog = Watchdog()
        let sawCancellation = Mutex(false)
        let caller = Task {
            try await watchdog.run(within: .seconds(30), timeoutError: { TimedOut() }) {
                do { try await Task.sleep(for: .seconds(30)) } catch { sawCancellation.withLock { $0 = true }; throw error }
                return 1
            }
        }
        try await Task.sleep(for: .milliseconds(50))
        caller.cancel()
        await #expect(throws: CancellationError.self) { try await caller.value }
        #expect(sawCancellation.withLock { $0 })
    }

    @Test func manyConcurrentCallsEachGetTheirOwnAnswer() async throws {
        let watchdog = Watchdog()
        let answers = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for index in 0..<500 {
                group.addTask { (index, try await watchdog.run(within: .seconds(10), timeoutError: { TimedOut() }) { index * 3 }) }
            }
            return try await group.reduce(into: [Int: Int]()) { $0[$1.0] = $1.1 }
        }
        #expect(answers.count == 500 && answers.allSatisfy { $0.value == $0.key * 3 })
    }
}
