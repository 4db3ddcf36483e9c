import Foundation
import MapDepotCore

/// Pause, resume, abort and archive (issue #4 parts 3 and 4), asked by a task's owner.
public enum ExportControl: String, Sendable, CaseIterable {
    case pause, resume, abort, archive
}

extension ExportRules {
    /// What a control did besides its rows.
    public struct ControlPlan: Sendable, Hashable {
        public var changes: ExportChanges
        /// The job's files are to go (an abort before or between runs; a running job's worker deletes them itself).
        public var deletesArtifacts: Bool = false
        /// A job went back to the queue: idle workers should look.
        public var wakesWorkers: Bool = false
    }

    /// Decides a control over the task and its job's state, read under the job's lock (so a worker's claim cannot slip
    /// between the check and the move). A job shared with other customers' tasks is not stopped by one of them: abort
    /// detaches the caller's task (ABORTED for them, the export goes on for the others) and pause is refused with 409.
    /// A running job is asked to stop at its next checkpoint, where its worker ends the run.
    public static func control(_ action: ExportControl, task: ExportTask, state: JobState, now: Date) throws -> ControlPlan {
        func conflict(_ allowed: String) -> ServiceError {
            ServiceError(.conflict, "task \(task.id) is \(task.status.rawValue); \(action.rawValue) applies to \(allowed) tasks only")
        }
        func stopRequest(pause: Bool, abort: Bool) -> ExportChanges {
            var changes = ExportChanges()
            var job = state.job
            job.pauseRequested = job.pauseRequested || pause
            job.abortRequested = job.abortRequested || abort
            changes.jobs = [job]
            return changes
        }
        let shared = state.isShared(besides: task.id)
        switch action {
        case .pause:
            guard [.pending, .inProgress].contains(task.status) else { throw conflict("PENDING or IN_PROGRESS") }
            guard !shared else {
                throw ServiceError(.conflict, "task \(task.id) shares its export with other requests and cannot be paused; abort detaches it")
            }
            if task.status == .inProgress { return ControlPlan(changes: stopRequest(pause: true, abort: false)) }
            return ControlPlan(changes: try move(state, to: .paused, reason: nil, now: now))
        case .resume:
            guard task.status == .paused else { throw conflict("PAUSED") }
            return ControlPlan(changes: try move(state, to: .pending, reason: "resumed", now: now), wakesWorkers: true)
        case .abort:
            guard [.pending, .inProgress, .paused].contains(task.status) else { throw conflict("PENDING, IN_PROGRESS or PAUSED") }
            if shared {
                return ControlPlan(changes: try detach(task, to: .aborted, reason: "aborted by its owner; the shared export continues", now: now))
            }
            if task.status == .inProgress { return ControlPlan(changes: stopRequest(pause: false, abort: true)) }
            return ControlPlan(changes: try move(state, to: .aborted, reason: "aborted by its owner", now: now), deletesArtifacts: true)
        case .archive:
            guard [.completed, .failed, .aborted, .expired].contains(task.status) else { throw conflict("COMPLETED, FAILED, ABORTED or EXPIRED") }
            return ControlPlan(changes: try detach(task, to: .archived, reason: "archived by its owner", now: now))
        }
    }
}
