import Foundation
import MapDepotCore
import Synchronization

/// A clock the test moves: expiry, back-off and timestamps without waiting.
///
/// By default its sleeps take real time (the components' background loops keep running while the test sets the
/// date); a `.manual` clock's sleeps end only when ``advance(_:)`` moves time past them, so lease, renewal and
/// back-off scenarios of minutes run in milliseconds (issue #10).
public final class TestClock: WallClock, Sendable {
    public enum Sleeping: Sendable { case real, manual }

    private struct Sleeper {
        let until: Date
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Date
        var sleepers: [UInt64: Sleeper] = [:]
        var cancelled: Set<UInt64> = []
        var nextId: UInt64 = 0
    }

    private let state: Mutex<State>
    private let sleeping: Sleeping
    private let fixedJitter: Double?

    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000), sleeping: Sleeping = .real, jitter: Double? = nil) {
        state = Mutex(State(now: start))
        self.sleeping = sleeping
        self.fixedJitter = jitter
    }

    public func now() -> Date { state.withLock { $0.now } }

    public func jitter(in range: Range<Double>) -> Double { fixedJitter ?? Double.random(in: range) }

    public func sleep(for duration: Duration) async throws {
        guard sleeping == .manual else { return try await Task.sleep(for: duration) }
        let id = state.withLock { state in
            state.nextId += 1
            return state.nextId
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome: Result<Void, any Error>? = state.withLock { state in
                    if state.cancelled.remove(id) != nil { return .failure(CancellationError()) }
                    let until = state.now.addingTimeInterval(duration.seconds)
                    if until <= state.now { return .success(()) }
                    state.sleepers[id] = Sleeper(until: until, continuation: continuation)
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let sleeper = state.withLock { state in
                guard let sleeper = state.sleepers.removeValue(forKey: id) else {
                    state.cancelled.insert(id)
                    return nil as Sleeper?
                }
                return sleeper
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time on, ending every sleep it passes.
    public func advance(_ seconds: TimeInterval) {
        let due = state.withLock { state in
            state.now = state.now.addingTimeInterval(seconds)
            let now = state.now
            let due = state.sleepers.filter { $0.value.until <= now }
            for id in due.keys { state.sleepers[id] = nil }
            return due.values.sorted { $0.until < $1.until }
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// How many sleeps are waiting for time to move.
    public var sleepers: Int { state.withLock { $0.sleepers.count } }

    /// Waits (in real time, a little at a time) until at least `count` sleeps wait: the work woken by the last
    /// ``advance(_:)`` has done what it does before its next sleep.
    public func waitForSleepers(_ count: Int, timeout: Duration = .seconds(30)) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while sleepers < count {
            guard clock.now < deadline else { throw FixtureError("\(sleepers) sleeps wait, not \(count), after \(timeout)") }
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}
