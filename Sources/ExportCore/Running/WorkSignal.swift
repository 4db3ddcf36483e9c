import Synchronization

/// Wakes idle export workers when there may be work (a job became PENDING), so that a new task starts at once
/// instead of at the next poll.
///
/// In-process, the export service signals after it queues or resumes a job; with PostgreSQL, a trigger on
/// `export_jobs` sends `NOTIFY mapdepot_jobs` when a job becomes PENDING on any node (delivered at commit) and each
/// node's listener signals its workers. Workers still poll (`export.worker.poll.seconds`) in case a notification is lost
/// while a listener reconnects.
public final class WorkSignal: Sendable {
    private struct State {
        var nextId: UInt64 = 0
        /// Waits that were started and have not yet parked their continuation.
        var starting: Set<UInt64> = []
        var parked: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Wakes every worker waiting now.
    public func notify() {
        let parked = state.withLock { state in
            let parked = state.parked
            state.parked = [:]
            return parked
        }
        for continuation in parked.values { continuation.resume() }
    }

    /// Returns when notified, after `timeout`, or when the calling task is cancelled, whichever is first.
    public func wait(timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: timeout) }
            group.addTask { await self.waitForNotification() }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForNotification() async {
        let id = state.withLock { state in
            state.nextId += 1
            state.starting.insert(state.nextId)
            return state.nextId
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                // Cancelled before parking: the handler already took the id out of `starting`.
                let cancelled = state.withLock { state in
                    guard state.starting.remove(id) != nil else { return true }
                    state.parked[id] = continuation
                    return false
                }
                if cancelled { continuation.resume() }
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
