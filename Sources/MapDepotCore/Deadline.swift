import Synchronization

/// Gives up on work that may never end.
///
/// Why not a task group with a timer child: a group waits for every child, so a child that never returns holds the
/// caller forever — and that is the case this exists for. postgres-nio 1.33 writes a query to its channel without a
/// write promise, so a query issued on a connection the server has just closed is dropped and its promise is never
/// completed (upstream fix #487 was reverted in #501): the caller, and with it a worker slot, a lease renewal or a
/// shutdown, waited for good after a PostgreSQL restart (issue #9). Here the work runs in a task of its own and the
/// caller is answered by whichever comes first, the work or its abandonment; abandoned work is cancelled and left
/// (its task ends if it ever returns).
public enum Deadline {
    /// `body`'s result, or the error `body` hands to its `abandon` function (from a callback: a connection's close
    /// future, a ``Watchdog``), thrown at once whether or not `body` has ended. Cancelling the caller cancels `body`.
    public static func abandoning<T: Sendable>(
        _ body: @escaping @Sendable (_ abandon: @escaping @Sendable (any Error) -> Void) async throws -> T
    ) async throws -> T {
        let gate = Gate<T>()
        let work = Task {
            let abandon: @Sendable (any Error) -> Void = { error in gate.finish(.failure(error)) }
            do { gate.finish(.success(try await body(abandon))) } catch { gate.finish(.failure(error)) }
        }
        // Abandoned (or finished): work that is still running is told to stop.
        defer { work.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in gate.park(continuation) }
        } onCancel: {
            work.cancel()
        }
    }
}

/// Time limits for many operations with one timer: each ``run(within:timeoutError:_:)`` registers its deadline and
/// ``watch()`` — one loop, run beside what it guards — abandons what has outlived it, to a tick's precision.
///
/// One timer, not one per call: a statement then costs its own task and a dictionary entry, not also a sleeping timer
/// task (a per-request timer had cost a third of `/liveness`, issue #9).
public final class Watchdog: Sendable {
    private struct Watched {
        var deadline: ContinuousClock.Instant
        var expire: @Sendable () -> Void
    }

    private struct State {
        var nextID: UInt64 = 0
        var watched: [UInt64: Watched] = [:]
    }

    private let state = Mutex(State())
    private let tick: Duration

    public init(tick: Duration = .milliseconds(100)) {
        self.tick = tick
    }

    /// `body`'s result, or `timeoutError()` thrown once `limit` has passed (within a tick) — while ``watch()`` runs.
    public func run<T: Sendable>(
        within limit: Duration, timeoutError: @escaping @Sendable () -> any Error, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let deadline = ContinuousClock.now + limit
        return try await Deadline.abandoning { [self] abandon in
            let id = state.withLock { state in
                state.nextID += 1
                state.watched[state.nextID] = Watched(deadline: deadline, expire: { abandon(timeoutError()) })
                return state.nextID
            }
            defer { _ = state.withLock { $0.watched.removeValue(forKey: id) } }
            return try await body()
        }
    }

    /// Abandons expired work every tick, until cancelled.
    public func watch() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: tick)
            let now = ContinuousClock.now
            let expired = state.withLock { state in
                let due = state.watched.filter { $0.value.deadline <= now }
                for id in due.keys { state.watched.removeValue(forKey: id) }
                return due.values.map(\.expire)
            }
            for expire in expired { expire() }
        }
    }
}

/// The first outcome of a ``Deadline/abandoning(_:)`` and the caller waiting for it, in either order.
private final class Gate<T: Sendable>: Sendable {
    private enum State {
        case waiting
        case parked(CheckedContinuation<T, any Error>)
        case finished(Result<T, any Error>)
        case done
    }

    private let state = Mutex(State.waiting)

    /// Records the outcome; true when it was the first (and so the one the caller gets).
    @discardableResult
    func finish(_ result: Result<T, any Error>) -> Bool {
        let (first, continuation): (Bool, CheckedContinuation<T, any Error>?) = state.withLock { state in
            switch state {
            case .waiting:
                state = .finished(result)
                return (true, nil)
            case .parked(let continuation):
                state = .done
                return (true, continuation)
            case .finished, .done:
                return (false, nil)
            }
        }
        continuation?.resume(with: result)
        return first
    }

    func park(_ continuation: CheckedContinuation<T, any Error>) {
        let ready: Result<T, any Error>? = state.withLock { state in
            if case .finished(let result) = state {
                state = .done
                return result
            }
            state = .parked(continuation)
            return nil
        }
        if let ready { continuation.resume(with: ready) }
    }
}
