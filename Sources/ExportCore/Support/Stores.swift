import Foundation
import MapDepotCore

/// Catalog records, by id.
public protocol CatalogStore: Sendable {
    /// - Throws: ``ServiceError`` `.conflict` when the id exists.
    func insert(_ record: CatalogRecord) async throws
    func record(id: UUID) async throws -> CatalogRecord?
    func records() async throws -> [CatalogRecord]
    /// - Returns: whether a record was deleted.
    func delete(id: UUID) async throws -> Bool
}

/// Renders a webhook body for a task at an event: `{event, timestamp, data: <task>}`.
public typealias WebhookRenderer = @Sendable (ExportTask, WebhookEvent, Date) -> String

/// Export jobs (the work), tasks (customers' requests) and the webhook outbox.
///
/// Every status change goes through the store, which in the same transaction copies the job's state to its
/// attached tasks, records each task's transition, and writes a webhook delivery for every subscribed URL
/// (a durable outbox: a change and its notifications commit together or not at all).
public protocol ExportTaskStore: Sendable {
    /// The live job (PENDING, IN_PROGRESS, PAUSED, or COMPLETED and not expired) for a key.
    func liveJob(dedupKey: String) async throws -> ExportJob?
    /// Stores a request: attached to the live job of its key if there is one (merging webhooks into the
    /// customer's own task, or adding a task for a new customer), else as a new job. Atomic: one live job
    /// per key, whatever arrives at the same moment.
    func admit(_ task: NewExportTask, render: @escaping WebhookRenderer) async throws -> (ExportTask, AdmissionOutcome)
    /// PENDING, IN_PROGRESS or PAUSED tasks of a customer.
    func activeTaskCount(customer: String) async throws -> Int
    /// Bytes that queued and running jobs will still write: Σ estimate × (1 − progress).
    func committedBytes() async throws -> Int64

    /// The task if it exists and, when `customer` is given, belongs to it.
    func task(id: Int, customer: String?) async throws -> ExportTask?
    /// The customer's newest tasks first, with `status`, or all but ARCHIVED without.
    func tasks(customer: String, limit: Int, status: TaskStatus?) async throws -> [ExportTask]
    /// Whether the customer has a task on the job (download rights).
    func customerHasTask(customer: String, jobId: Int) async throws -> Bool
    func transitions(id: Int) async throws -> [TaskTransition]

    /// Moves the oldest PENDING job to IN_PROGRESS under `lease` and returns it.
    func claimNextJob(now: Date, lease: JobLease, render: @escaping WebhookRenderer) async throws -> ExportJob?
    /// Extends a running job's lease; false when the caller no longer holds it.
    func renewLease(jobId: Int, lease: JobLease) async throws -> Bool
    /// Finishes a running job (COMPLETED, PAUSED, ABORTED, FAILED) only if the caller still holds its lease.
    func finishJob(
        jobId: Int, lease: JobLease, to status: TaskStatus, reason: String?, artifacts: [Artifact]?, expiresAt: Date?, now: Date,
        render: @escaping WebhookRenderer
    ) async throws -> Bool
    /// Puts IN_PROGRESS jobs whose lease has expired back to PENDING (their node died): another worker resumes them.
    func requeueExpiredLeases(now: Date) async throws -> [Int]
    func job(id: Int) async throws -> ExportJob?
    /// Records a checkpoint of a running job and extends its lease; `event` (TASK_IN_PROGRESS) is sent when given.
    /// Returns the job, whose pause and abort requests the runner honours at this safe point, or nil when the
    /// caller no longer holds the lease (another node took the job over).
    func recordProgress(
        jobId: Int, lease: JobLease, progress: Int, batchesDone: Int, tilesDone: Int, estimatedTime: Int64, event: WebhookEvent?,
        now: Date, render: @escaping WebhookRenderer
    ) async throws -> ExportJob?
    /// Moves a job (and its attached tasks) to `status`, with the event that goes with it.
    func transitionJob(
        jobId: Int, to status: TaskStatus, reason: String?, artifacts: [Artifact]?, expiresAt: Date?, now: Date,
        render: @escaping WebhookRenderer
    ) async throws
    /// Moves one task (not its job) to ABORTED or ARCHIVED, with its event.
    func transitionTask(id: Int, to status: TaskStatus, reason: String?, now: Date, render: @escaping WebhookRenderer) async throws
    /// Asks a running job to stop at its next checkpoint.
    func requestStop(jobId: Int, pause: Bool, abort: Bool) async throws
    /// The tasks still attached to a job (not detached, not archived).
    func attachedTasks(jobId: Int) async throws -> [ExportTask]
    /// Puts every IN_PROGRESS job back to PENDING: start-up of the only process using the state (the embedded
    /// SQLite backend), after a crash. They resume from their checkpoint.
    func requeueInProgress(now: Date) async throws -> [Int]

    /// COMPLETED jobs whose expiry has passed.
    func expiredJobs(now: Date) async throws -> [ExportJob]
    /// Finished tasks (COMPLETED, FAILED, ABORTED, EXPIRED) finished before `date`.
    func finishedTasks(before date: Date) async throws -> [ExportTask]

    /// Claims deliveries due at `now`, oldest first: they are not due again before `until`, so two dispatchers
    /// (two nodes) do not send the same one at once; a dispatcher that dies lets them fall due again.
    func claimDueDeliveries(now: Date, until: Date, limit: Int) async throws -> [WebhookDelivery]
    func recordAttempt(_ delivery: WebhookDelivery) async throws
    func deliveries(taskId: Int) async throws -> [WebhookDelivery]
}

/// Who runs a job, until when. A node renews it while it works; when it dies the lease runs out and another
/// node takes the job over.
public struct JobLease: Sendable, Hashable {
    public var owner: String
    public var until: Date

    public init(owner: String, until: Date) {
        self.owner = owner
        self.until = until
    }
}

/// A recorded status change.
public struct TaskTransition: Sendable, Hashable {
    public var from: TaskStatus?
    public var to: TaskStatus
    public var at: Date
    public var reason: String?

    public init(from: TaskStatus?, to: TaskStatus, at: Date, reason: String?) {
        self.from = from
        self.to = to
        self.at = at
        self.reason = reason
    }
}
