import Foundation
import MapDepotCore

/// The export state machine (SPEC "Lifecycle", issue #10), as synchronous functions over values a store read under
/// the job's lock. Each returns the ``ExportChanges`` to write, or throws a ``ServiceError`` for a move the state does
/// not allow. Both stores call the same functions: no rule is written twice, and every rule is tested without a database.
public enum ExportRules {
    /// What a job may become without a lease (a lease holder's moves go through ``finish(_:lease:to:reason:artifacts:expiresAt:now:)``).
    /// A finished job moved again to its own status is not a move: nothing changes (two sweepers at once).
    static let jobMoves: [TaskStatus: Set<TaskStatus>] = [
        .pending: [.inProgress, .paused, .aborted],
        .inProgress: [.pending, .completed, .paused, .aborted, .failed],
        .paused: [.pending, .aborted],
        .completed: [.expired],
        .failed: [], .aborted: [], .expired: [], .archived: [],
    ]

    /// What one task may become on its own, leaving its job: aborted out of a shared export, or archived once finished.
    static let taskMoves: [TaskStatus: Set<TaskStatus>] = [
        .pending: [.aborted], .inProgress: [.aborted], .paused: [.aborted],
        .completed: [.archived], .failed: [.archived], .aborted: [.archived], .expired: [.archived],
        .archived: [],
    ]

    /// Whether a job in `from` may move to `to`.
    public static func jobMayMove(from: TaskStatus, to: TaskStatus) -> Bool { jobMoves[from, default: []].contains(to) }

    /// Whether a task in `from` may leave its job for `to`.
    public static func taskMayMove(from: TaskStatus, to: TaskStatus) -> Bool { taskMoves[from, default: []].contains(to) }

    /// Moves a job and its attached tasks to `status`: each task mirrors the job's status, progress, artifacts, reason
    /// and expiry, records its transition (with `reason`) and gets the status's event.
    public static func move(
        _ state: JobState, to status: TaskStatus, reason: String?, artifacts: [Artifact]? = nil, expiresAt: Date? = nil, now: Date
    ) throws -> ExportChanges {
        let old = state.job
        if old.status == status && status.isFinished { return ExportChanges() }
        guard jobMayMove(from: old.status, to: status) else {
            throw ServiceError(.conflict, "export \(old.id) is \(old.status.rawValue) and cannot become \(status.rawValue)")
        }
        let now = Timestamp.milliseconds(now)
        var job = old
        job.status = status
        job.updatedAt = now
        job.pauseRequested = false
        if status != .inProgress { job.lease = nil }
        if status != .inProgress && status != .pending { job.abortRequested = false }
        if status.isFinished { job.finishedAt = job.finishedAt ?? now }
        // The contract's `errorReason` says why a task failed or was aborted; other moves' reasons are in the transitions.
        if let reason, status == .failed || status == .aborted { job.errorReason = reason }
        if let artifacts { job.artifacts = artifacts }
        if let expiresAt { job.expiredAt = Timestamp.milliseconds(expiresAt) }
        if status == .completed { job.progress = 100 }
        var changes = ExportChanges()
        changes.jobs = [job]
        for before in state.tasks {
            var task = before
            task.status = status
            task.progress = job.progress
            task.artifacts = job.artifacts
            task.errorReason = job.errorReason
            task.expiredAt = job.expiredAt
            task.estimatedTime = status == .completed ? 0 : job.estimatedTime
            if status.isFinished { task.finishedAt = task.finishedAt ?? now }
            task.updatedAt = now
            changes.write(task)
            if before.status != status {
                changes.transitions.append(TaskTransition(taskId: task.id, from: before.status, to: status, at: now, reason: reason))
            }
            if let event = status.webhookEvent { changes.send(event, for: task, at: now) }
        }
        return changes
    }

    /// One task leaves its job for `status` (ABORTED out of a shared export, ARCHIVED), with its event; the job goes on.
    public static func detach(_ task: ExportTask, to status: TaskStatus, reason: String?, now: Date) throws -> ExportChanges {
        if task.status == status { return ExportChanges() }
        guard taskMayMove(from: task.status, to: status) else {
            throw ServiceError(.conflict, "task \(task.id) is \(task.status.rawValue) and cannot become \(status.rawValue)")
        }
        let now = Timestamp.milliseconds(now)
        var moved = task
        moved.status = status
        moved.isDetached = true
        moved.updatedAt = now
        moved.finishedAt = moved.finishedAt ?? now
        var changes = ExportChanges()
        changes.write(moved)
        changes.transitions.append(TaskTransition(taskId: task.id, from: task.status, to: status, at: now, reason: reason))
        if let event = status.webhookEvent { changes.send(event, for: moved, at: now) }
        return changes
    }

    /// A worker takes a PENDING job under `lease`.
    public static func claim(_ state: JobState, lease: JobLease, now: Date) throws -> ExportChanges {
        guard state.job.status == .pending else {
            throw ServiceError(.conflict, "export \(state.job.id) is \(state.job.status.rawValue), not PENDING: it cannot be claimed")
        }
        var changes = try move(state, to: .inProgress, reason: nil, now: now)
        changes.jobs[0].lease = JobLease(owner: lease.owner, until: Timestamp.milliseconds(lease.until))
        return changes
    }

    /// Whether `lease`'s owner runs the job: it is IN_PROGRESS under that owner's lease.
    public static func isHeld(_ job: ExportJob, by lease: JobLease) -> Bool {
        job.status == .inProgress && job.lease?.owner == lease.owner
    }

    /// The lease holder ends a run (COMPLETED, PAUSED, ABORTED, FAILED); nil when it no longer holds the job.
    public static func finish(
        _ state: JobState, lease: JobLease, to status: TaskStatus, reason: String?, artifacts: [Artifact]?, expiresAt: Date?, now: Date
    ) throws -> ExportChanges? {
        guard isHeld(state.job, by: lease) else { return nil }
        guard [.completed, .paused, .aborted, .failed].contains(status) else {
            throw ServiceError(.conflict, "a run ends COMPLETED, PAUSED, ABORTED or FAILED, not \(status.rawValue)")
        }
        return try move(state, to: status, reason: reason, artifacts: artifacts, expiresAt: expiresAt, now: now)
    }

    /// The lease holder extends its lease (or, with `until` now, hands the job back); nil when it no longer holds it.
    public static func renew(_ job: ExportJob, lease: JobLease) -> ExportChanges? {
        guard isHeld(job, by: lease) else { return nil }
        var renewed = job
        renewed.lease = JobLease(owner: lease.owner, until: Timestamp.milliseconds(lease.until))
        var changes = ExportChanges()
        changes.jobs = [renewed]
        return changes
    }

    /// A checkpoint of a run: progress to the job and its running tasks, the lease extended, `event` (TASK_IN_PROGRESS)
    /// to every attached task when given. Nil when the caller no longer holds the job.
    public static func progress(_ state: JobState, lease: JobLease, checkpoint: Checkpoint, event: WebhookEvent?, now: Date) -> ExportChanges? {
        guard var changes = renew(state.job, lease: lease) else { return nil }
        let now = Timestamp.milliseconds(now)
        changes.jobs[0].progress = checkpoint.progress
        changes.jobs[0].batchesDone = checkpoint.batchesDone
        changes.jobs[0].tilesDone = checkpoint.tilesDone
        changes.jobs[0].estimatedTime = checkpoint.estimatedTime
        changes.jobs[0].updatedAt = now
        for before in state.tasks {
            var task = before
            if task.status == .inProgress {
                task.progress = checkpoint.progress
                task.estimatedTime = checkpoint.estimatedTime
                task.updatedAt = now
                changes.write(task)
            }
            if let event { changes.send(event, for: task, at: now) }
        }
        return changes
    }

    /// An IN_PROGRESS job whose node stopped goes back to the queue with its tasks; it resumes from its checkpoint.
    public static func requeue(_ state: JobState, now: Date) throws -> ExportChanges {
        guard state.job.status == .inProgress else { return ExportChanges() }
        var changes = try move(state, to: .pending, reason: nil, now: now)
        // A pause asked of the stopped run applies to the resumed one.
        changes.jobs[0].pauseRequested = state.job.pauseRequested
        for index in changes.transitions.indices { changes.transitions[index].reason = "the node running the export stopped; it resumes" }
        return changes
    }

    /// A run's checkpoint: what ``progress(_:lease:checkpoint:event:now:)`` records.
    public struct Checkpoint: Sendable, Hashable {
        public var progress: Int
        public var batchesDone: Int
        public var tilesDone: Int
        public var estimatedTime: Int64

        public init(progress: Int, batchesDone: Int, tilesDone: Int, estimatedTime: Int64) {
            self.progress = progress
            self.batchesDone = batchesDone
            self.tilesDone = tilesDone
            self.estimatedTime = estimatedTime
        }
    }
}
