import Foundation
import MapDepotCore

/// A job and the tasks still attached to it, as a store read them under the job's lock: what every rule decides over.
public struct JobState: Sendable, Hashable {
    public var job: ExportJob
    /// The job's tasks that are not detached, oldest first.
    public var tasks: [ExportTask]

    public init(job: ExportJob, tasks: [ExportTask]) {
        self.job = job
        self.tasks = tasks
    }

    /// Whether tasks other than `taskId` share the job.
    public func isShared(besides taskId: Int) -> Bool { tasks.contains { $0.id != taskId } }
}

/// A webhook event a change produces for one task: the outbox rows to write with it.
public struct TaskEvent: Sendable, Hashable {
    /// The task as the change leaves it: what the webhook's `data` shows.
    public var task: ExportTask
    public var event: WebhookEvent
    public var at: Date
    /// Subscribed webhooks it goes to, each with the secret the task holds for its URL.
    public var targets: [Webhook]

    public init(task: ExportTask, event: WebhookEvent, at: Date, targets: [Webhook]) {
        self.task = task
        self.event = event
        self.at = at
        self.targets = targets
    }
}

/// What a rule decided: the rows a store writes, in one transaction with the read it was decided over (issue #10:
/// stores lock, read, call the rule and write this; they decide nothing).
///
/// A job or task the change creates has id 0 until the store inserts it (``assigning(jobId:)``,
/// ``assigning(taskId:)``); a new task of a new job has job id 0.
public struct ExportChanges: Sendable, Hashable {
    public var newJob: ExportJob?
    public var newTask: ExportTask?
    /// Jobs whose state (status, progress, checkpoint, artifacts, reason, times, lease, stop requests) to write.
    public var jobs: [ExportJob] = []
    /// Tasks whose state (status, progress, artifacts, reason, times, webhooks, detachment) to write.
    public var tasks: [ExportTask] = []
    public var transitions: [TaskTransition] = []
    public var events: [TaskEvent] = []

    public init() {}

    public var isEmpty: Bool { newJob == nil && newTask == nil && jobs.isEmpty && tasks.isEmpty && transitions.isEmpty && events.isEmpty }

    /// The job written by this change (the new one, else the first updated).
    public var job: ExportJob? { newJob ?? jobs.first }

    /// The change with the id the store gave the new job.
    public func assigning(jobId: Int) -> ExportChanges {
        var changes = self
        changes.newJob?.id = jobId
        if changes.newTask?.jobId == 0 { changes.newTask?.jobId = jobId }
        for index in changes.events.indices where changes.events[index].task.jobId == 0 { changes.events[index].task.jobId = jobId }
        return changes
    }

    /// The change with the id the store gave the new task.
    public func assigning(taskId: Int) -> ExportChanges {
        var changes = self
        changes.newTask?.id = taskId
        for index in changes.transitions.indices where changes.transitions[index].taskId == 0 { changes.transitions[index].taskId = taskId }
        for index in changes.events.indices where changes.events[index].task.id == 0 { changes.events[index].task.id = taskId }
        return changes
    }

    /// The outbox rows of ``events``: one delivery per target, due at once, tried for `retryBudget` seconds. Their body
    /// is the event's stored message (``WebhookMessage``): the dispatcher signs the artifact links when it sends it.
    public func deliveries(retryBudget: TimeInterval) -> [WebhookDelivery] {
        events.flatMap { event in
            event.targets.map { webhook in
                let body = WebhookMessage.stored(task: event.task, event: event.event, at: event.at, format: webhook.format)
                return WebhookDelivery(
                    id: UUID(), taskId: event.task.id, event: event.event, url: webhook.url, secret: webhook.secret, body: body, state: .pending,
                    attempts: 0, nextAttemptAt: event.at, lastAttemptAt: nil, lastStatusCode: nil, lastError: nil, createdAt: event.at,
                    expiresAt: event.at.addingTimeInterval(retryBudget), deliveredAt: nil
                )
            }
        }
    }

    /// Writes `task` (replacing an earlier write of the same task in this change).
    mutating func write(_ task: ExportTask) {
        if let index = tasks.firstIndex(where: { $0.id == task.id }) { tasks[index] = task } else { tasks.append(task) }
    }

    /// Sends `event` for `task` to its subscribed webhooks, or to `only` (the webhooks a request just added).
    mutating func send(_ event: WebhookEvent, for task: ExportTask, at now: Date, only: [Webhook]? = nil) {
        let targets = (only ?? task.webhooks).filter { $0.events.contains(event) }.map { webhook in
            let known = task.webhooks.first { $0.url == webhook.url }
            return Webhook(url: webhook.url, events: webhook.events, secret: known?.secret ?? webhook.secret, format: known?.format ?? webhook.format)
        }
        guard !targets.isEmpty else { return }
        events.append(TaskEvent(task: task, event: event, at: now, targets: targets))
    }
}
