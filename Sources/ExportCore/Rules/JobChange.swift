import Foundation
import MapDepotCore

/// Which jobs a change applies to. The store reads each under its row lock (PostgreSQL skips jobs another transaction
/// holds where taking them twice would be wrong: a claim, a takeover).
public enum JobSelection: Sendable, Hashable {
    case id(Int)
    /// The oldest PENDING job.
    case oldestPending
    /// IN_PROGRESS jobs; with a date, only those whose lease ran out before it (their node stopped renewing).
    case inProgress(leaseExpiredBefore: Date?)
}

/// A change to a job, as a value: ``ExportRules/decide(_:over:)`` says what it writes, so a store offers one method
/// for all of them and no closure crosses the store protocol (issue #10).
public enum JobChange: Sendable, Hashable {
    case claim(lease: JobLease, now: Date)
    case renew(lease: JobLease)
    case finish(lease: JobLease, to: TaskStatus, reason: String?, artifacts: [Artifact]?, expiresAt: Date?, now: Date)
    case progress(lease: JobLease, checkpoint: ExportRules.Checkpoint, event: WebhookEvent?, now: Date)
    case move(to: TaskStatus, reason: String?, artifacts: [Artifact]?, expiresAt: Date?, now: Date)
    case requeue(now: Date)
}

extension ExportRules {
    /// The rows `change` writes over `state`; nil when it does not apply (the caller no longer holds the lease).
    public static func decide(_ change: JobChange, over state: JobState) throws -> ExportChanges? {
        switch change {
        case .claim(let lease, let now): try claim(state, lease: lease, now: now)
        case .renew(let lease): renew(state.job, lease: lease)
        case .finish(let lease, let status, let reason, let artifacts, let expiresAt, let now):
            try finish(state, lease: lease, to: status, reason: reason, artifacts: artifacts, expiresAt: expiresAt, now: now)
        case .progress(let lease, let checkpoint, let event, let now): progress(state, lease: lease, checkpoint: checkpoint, event: event, now: now)
        case .move(let status, let reason, let artifacts, let expiresAt, let now):
            try move(state, to: status, reason: reason, artifacts: artifacts, expiresAt: expiresAt, now: now)
        case .requeue(let now): try requeue(state, now: now)
        }
    }
}

extension ExportTaskStore {
    /// Claims the oldest PENDING job under `lease` (``ExportRules/claim(_:lease:now:)``) and returns it.
    public func claimNextJob(now: Date, lease: JobLease) async throws -> ExportJob? {
        try await change(.claim(lease: lease, now: now), of: .oldestPending).first?.job
    }

    /// Extends a running job's lease; false when the caller no longer holds it.
    public func renewLease(jobId: Int, lease: JobLease) async throws -> Bool {
        !(try await change(.renew(lease: lease), of: .id(jobId)).isEmpty)
    }

    /// Ends a run (COMPLETED, PAUSED, ABORTED, FAILED) only if the caller still holds its lease.
    public func finishJob(
        jobId: Int, lease: JobLease, to status: TaskStatus, reason: String?, artifacts: [Artifact]?, expiresAt: Date?, now: Date
    ) async throws -> Bool {
        let change = JobChange.finish(lease: lease, to: status, reason: reason, artifacts: artifacts, expiresAt: expiresAt, now: now)
        return !(try await self.change(change, of: .id(jobId)).isEmpty)
    }

    /// Records a checkpoint of a running job and extends its lease; `event` (TASK_IN_PROGRESS) is sent when given.
    /// Returns the job, whose pause and abort requests the runner honours at this safe point, or nil when the
    /// caller no longer holds the lease (another node took the job over).
    public func recordProgress(jobId: Int, lease: JobLease, checkpoint: ExportRules.Checkpoint, event: WebhookEvent?, now: Date) async throws -> ExportJob? {
        try await change(.progress(lease: lease, checkpoint: checkpoint, event: event, now: now), of: .id(jobId)).first?.job
    }

    /// Puts IN_PROGRESS jobs whose lease has expired back to PENDING (their node died): another worker resumes them.
    public func requeueExpiredLeases(now: Date) async throws -> [Int] {
        try await change(.requeue(now: now), of: .inProgress(leaseExpiredBefore: now)).compactMap(\.job?.id)
    }

    /// Puts every IN_PROGRESS job back to PENDING: start-up of the only process using the state (the embedded
    /// SQLite backend), after a crash. They resume from their checkpoint.
    public func requeueInProgress(now: Date) async throws -> [Int] {
        try await change(.requeue(now: now), of: .inProgress(leaseExpiredBefore: nil)).compactMap(\.job?.id)
    }

    /// Moves a job (and its attached tasks) to `status` (``ExportRules/move(_:to:reason:artifacts:expiresAt:now:)``).
    public func transitionJob(jobId: Int, to status: TaskStatus, reason: String?, artifacts: [Artifact]?, expiresAt: Date?, now: Date) async throws {
        _ = try await change(.move(to: status, reason: reason, artifacts: artifacts, expiresAt: expiresAt, now: now), of: .id(jobId))
    }
}
