import MapDepotCore
import Synchronization

/// Wakes idle export workers when there may be work (a job became PENDING), so that a new task starts at once
/// instead of at the next poll.
///
/// In-process, the export service signals after it queues or resumes a job; with PostgreSQL, a trigger on
/// `export_jobs` sends `NOTIFY mapdepot_jobs` when a job becomes PENDING on any node (delivered at commit) and each
/// node's listener signals its workers. Workers still poll (`worker.poll.seconds`) in case a notification is lost
/// while a listener reconnects.
///
/// No wake-up is lost between "looked for work, found none" and "waiting": a worker reads ``generation`` before it
/// looks, and ``wait(since:timeout:)`` returns at once when a notification came after that.
public final class WorkSignal: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var nextId: UInt64 = 0
        /// Waits that were started and have not yet parked their continuation.
        var starting: Set<UInt64> = []
        var parked: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// How many notifications there have been; read it before looking for work.
    public var generation: UInt64 { state.withLock { $0.generation } }

    /// Wakes every worker waiting now, and every wait that starts with an older generation.
    public func notify() {
        let parked = state.withLock { state in
            state.generation += 1
            let parked = state.parked
            state.parked = [:]
            return parked
        }
        for continuation in parked.values { continuation.resume() }
    }

    /// Returns when there has been a notification since `generation`, after `timeout`, or when the calling task is
    /// cancelled, whichever is first.
    public func wait(since generation: UInt64, timeout: Duration, clock: any WallClock) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await clock.sleep(for: timeout) }
            group.addTask { await self.waitForNotification(since: generation) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForNotification(since generation: UInt64) async {
        let id = state.withLock { state in
            state.nextId += 1
            state.starting.insert(state.nextId)
            return state.nextId
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                // Return at once when notified since `generation`, or cancelled before parking (the handler
                // already took the id out of `starting`).
                let resumeNow = state.withLock { state in
                    guard state.starting.remove(id) != nil, state.generation == generation else { return true }
                    state.parked[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let continuation = state.withLock { state in
                state.starting.remove(id)
                return state.parked.removeValue(forKey: id)
            }
            continuation?.resume()
        }
    }
}
