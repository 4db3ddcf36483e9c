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

/// Export jobs (the work), tasks (customers' requests) and the webhook outbox.
///
/// Every change is decided by ``ExportRules`` over the job's state, read under the job's lock in the same transaction
/// that writes the rule's ``ExportChanges``: the job's state copied to its attached tasks, each task's transition, and a
/// webhook delivery for every subscribed URL (a durable outbox: a change and its notifications commit together or not
/// at all). Stores persist; they decide nothing (issue #10).
public protocol ExportTaskStore: Sendable {
    /// The live job (PENDING, IN_PROGRESS, PAUSED, or COMPLETED and not expired) for a key.
    func liveJob(dedupKey: String) async throws -> ExportJob?
    /// Stores a request as ``ExportRules/admit(_:live:activeTasks:)`` decides, over the live job of its key and the
    /// customer's active tasks, both read under locks that make it atomic: one live job per key, and concurrent
    /// requests of one customer counted one after another.
    func admit(_ task: NewExportTask) async throws -> (ExportTask, AdmissionOutcome)
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

    /// Applies `change` to each job of `selection`, as ``ExportRules/decide(_:over:)`` says, each in one transaction with
    /// the read of its state under its lock; returns what was written (nothing for a job the change does not apply to).
    /// The worker's and sweeper's operations (claim, renew, finish, progress, requeue, move) are written on it once, in
    /// ``ExportTaskStore`` extensions.
    func change(_ change: JobChange, of selection: JobSelection) async throws -> [ExportChanges]
    func job(id: Int) async throws -> ExportJob?

    /// Applies an owner's control to the customer's task (``ExportRules/control(_:task:state:now:)``) and says what
    /// else it asks for; the updated task is read back by the caller.
    /// - Throws: ``ServiceError`` `.notFound` for a task that is not the customer's, `.conflict` for a control its state refuses.
    func control(_ action: ExportControl, taskId: Int, customer: String, now: Date) async throws -> ExportRules.ControlPlan
    /// Moves one task out of its job to ABORTED or ARCHIVED (``ExportRules/detach(_:to:reason:now:)``).
    func transitionTask(id: Int, to status: TaskStatus, reason: String?, now: Date) async throws
    /// The tasks still attached to a job (not detached), oldest first.
    func attachedTasks(jobId: Int) async throws -> [ExportTask]

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

/// A recorded status change of a task.
public struct TaskTransition: Sendable, Hashable {
    public var taskId: Int
    public var from: TaskStatus?
    public var to: TaskStatus
    public var at: Date
    public var reason: String?

    public init(taskId: Int, from: TaskStatus?, to: TaskStatus, at: Date, reason: String?) {
        self.taskId = taskId
        self.from = from
        self.to = to
        self.at = at
        self.reason = reason
    }
}
