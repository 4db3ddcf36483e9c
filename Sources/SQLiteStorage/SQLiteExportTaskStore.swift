import ExportCore
import Foundation
import GRDB
import MapDepotCore

/// Export jobs, tasks and the webhook outbox in SQLite: each change reads the job's state, asks ``ExportRules`` and
/// writes the answer, in one write transaction.
///
/// SQLite runs one write transaction at a time, so admission's "find the live job, else insert one" and the customer's
/// count are atomic; the partial unique index `export_jobs_live` states the rule as a constraint as well.
public struct SQLiteExportTaskStore: ExportTaskStore {
    private let database: SQLiteDatabase
    /// How long a delivery is retried (default 24 h).
    private let retryBudget: TimeInterval
    /// Task reads by id, batched while others are in flight: status polling is the hottest route.
    private let taskReads: ReadCoalescer<Int, ExportTask>

    public init(database: SQLiteDatabase, webhookRetryBudget: TimeInterval) {
        self.database = database
        self.retryBudget = webhookRetryBudget
        self.taskReads = ReadCoalescer { ids in
            try await database.pool.read { db in
                // Cached statements, one per batch size: compiling one (GRDB's authorizer included) cost as much as running it.
                let marks = repeatElement("?", count: ids.count).joined(separator: ",")
                let statement = try db.cachedStatement(sql: "SELECT \(ExportTask.columns) FROM export_tasks WHERE id IN (\(marks))")
                let tasks = try Row.fetchAll(statement, arguments: StatementArguments(ids)).map(Self.task)
                return Dictionary(tasks.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            }
        }
    }

    // MARK: Admission

    public func liveJob(dedupKey: String) async throws -> ExportJob? {
        try await read { db in try Self.liveJob(db, dedupKey: dedupKey) }
    }

    public func admit(_ new: NewExportTask) async throws -> (ExportTask, AdmissionOutcome) {
        try await write { db in
            let live = try Self.liveJob(db, dedupKey: new.dedupKey).map { JobState(job: $0, tasks: try Self.attached(db, jobId: $0.id)) }
            var plan = try ExportRules.admit(new, live: live, activeTasks: try Self.activeTasks(db, customer: new.customer))
            if let job = plan.changes.newJob { plan = plan.assigning(jobId: try Self.insert(db, "export_jobs", job.insertColumns), taskId: nil) }
            if let task = plan.changes.newTask { plan = plan.assigning(jobId: nil, taskId: try Self.insert(db, "export_tasks", task.insertColumns)) }
            try Self.write(db, plan.changes, budget: retryBudget)
            return (plan.task, plan.outcome)
        }
    }

    public func activeTaskCount(customer: String) async throws -> Int {
        try await read { db in try Self.activeTasks(db, customer: customer) }
    }

    public func committedBytes() async throws -> Int64 {
        try await read { db in
            try Int64.fetchOne(
                db,
                sql: "SELECT coalesce(sum(estimated_size * (100 - progress) / 100), 0) FROM export_jobs WHERE status IN ('PENDING', 'IN_PROGRESS', 'PAUSED')"
            ) ?? 0
        }
    }

    // MARK: Queries

    public func task(id: Int, customer: String?) async throws -> ExportTask? {
        guard let task = try await taskReads.value(for: id), customer == nil || task.customer == customer else { return nil }
        return task
    }

    public func tasks(customer: String, limit: Int, status: TaskStatus?) async throws -> [ExportTask] {
        try await read { db in
            try Self.tasks(db, "customer = ? AND (status = ? OR (? IS NULL AND status != 'ARCHIVED')) ORDER BY id DESC LIMIT ?", [
                customer, status?.rawValue, status?.rawValue, limit,
            ])
        }
    }

    public func customerHasTask(customer: String, jobId: Int) async throws -> Bool {
        try await read { db in
            try Bool.fetchOne(
                db, sql: "SELECT 1 FROM export_tasks WHERE customer = ? AND job_id = ? AND detached = 0 AND status <> 'ABORTED' LIMIT 1",
                arguments: [customer, jobId]
            ) ?? false
        }
    }

    public func transitions(id: Int) async throws -> [TaskTransition] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM export_task_transitions WHERE task_id = ? ORDER BY rowid", arguments: [id])
                .map { try TaskTransition(row: SQLiteStoredRow($0, table: "export_task_transitions")) }
        }
    }

    public func job(id: Int) async throws -> ExportJob? {
        try await read { db in try Self.job(db, "id = ?", [id]).first }
    }

    public func attachedTasks(jobId: Int) async throws -> [ExportTask] {
        try await read { db in try Self.attached(db, jobId: jobId) }
    }

    public func expiredJobs(now: Date) async throws -> [ExportJob] {
        try await read { db in try Self.job(db, "status = 'COMPLETED' AND expired_at <= ? ORDER BY id", [Timestamp.string(now)]) }
    }

    public func finishedTasks(before date: Date) async throws -> [ExportTask] {
        try await read { db in
            try Self.tasks(db, "status IN ('COMPLETED', 'FAILED', 'ABORTED', 'EXPIRED') AND finished_at < ? ORDER BY id", [Timestamp.string(date)])
        }
    }

    // MARK: Changes

    public func change(_ change: JobChange, of selection: JobSelection) async throws -> [ExportChanges] {
        let (condition, arguments): (String, StatementArguments) =
            switch selection {
            case .id(let id): ("id = ?", [id])
            case .oldestPending: ("status = 'PENDING' ORDER BY id LIMIT 1", [])
            case .inProgress(let before?): ("status = 'IN_PROGRESS' AND (lease_expires_at IS NULL OR lease_expires_at < ?) ORDER BY id", [Timestamp.string(before)])
            case .inProgress(nil): ("status = 'IN_PROGRESS' ORDER BY id", [])
            }
        return try await write { db in
            try Self.job(db, condition, arguments).compactMap { job in
                guard let changes = try ExportRules.decide(change, over: JobState(job: job, tasks: try Self.attached(db, jobId: job.id))), !changes.isEmpty
                else { return nil }
                try Self.write(db, changes, budget: retryBudget)
                return changes
            }
        }
    }

    public func transitionTask(id: Int, to status: TaskStatus, reason: String?, now: Date) async throws {
        try await write { db in
            let task = try Self.task(db, id: id, customer: nil)
            try Self.write(db, try ExportRules.detach(task, to: status, reason: reason, now: now), budget: retryBudget)
        }
    }

    public func control(_ action: ExportControl, taskId: Int, customer: String, now: Date) async throws -> ExportRules.ControlPlan {
        try await write { db in
            let task = try Self.task(db, id: taskId, customer: customer)
            guard let job = try Self.job(db, "id = ?", [task.jobId]).first else { throw ServiceError.notFound("task id: \(taskId) is not found") }
            let plan = try ExportRules.control(action, task: task, state: JobState(job: job, tasks: try Self.attached(db, jobId: job.id)), now: now)
            try Self.write(db, plan.changes, budget: retryBudget)
            return plan
        }
    }

    // MARK: Outbox

    public func claimDueDeliveries(now: Date, until: Date, limit: Int) async throws -> [WebhookDelivery] {
        try await write { db in
            let due = try Row.fetchAll(
                db, sql: "SELECT * FROM webhook_deliveries WHERE state = 'PENDING' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?",
                arguments: [Timestamp.string(now), limit]
            ).map { try WebhookDelivery(row: SQLiteStoredRow($0, table: "webhook_deliveries")) }
            for delivery in due {
                try db.execute(
                    sql: "UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ?", arguments: [Timestamp.string(until), delivery.id.uuidString.lowercased()]
                )
            }
            return due
        }
    }

    public func recordAttempt(_ delivery: WebhookDelivery) async throws {
        try await write { db in try Self.update(db, "webhook_deliveries", delivery.attemptColumns, id: .text(delivery.id.uuidString.lowercased())) }
    }

    public func deliveries(taskId: Int) async throws -> [WebhookDelivery] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM webhook_deliveries WHERE task_id = ? ORDER BY created_at, rowid", arguments: [taskId])
                .map { try WebhookDelivery(row: SQLiteStoredRow($0, table: "webhook_deliveries")) }
        }
    }

    // MARK: Rows

    private func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T { try await database.pool.read(body) }

    private func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T { try await database.pool.write(body) }

    /// Writes a rule's changes (its new job and task already inserted).
    private static func write(_ db: Database, _ changes: ExportChanges, budget: TimeInterval) throws {
        for job in changes.jobs { try update(db, "export_jobs", job.stateColumns, id: .integer(job.id)) }
        for task in changes.tasks { try update(db, "export_tasks", task.stateColumns, id: .integer(task.id)) }
        for transition in changes.transitions { _ = try insert(db, "export_task_transitions", transition.insertColumns) }
        for delivery in changes.deliveries(retryBudget: budget) { _ = try insert(db, "webhook_deliveries", delivery.insertColumns) }
    }

    private static func insert(_ db: Database, _ table: String, _ columns: [(String, StoredValue)]) throws -> Int {
        let marks = repeatElement("?", count: columns.count).joined(separator: ", ")
        try db.execute(
            sql: "INSERT INTO \(table) (\(columns.map(\.0).joined(separator: ", "))) VALUES (\(marks))", arguments: StatementArguments(columns.map { $0.1.sqlite })
        )
        return Int(db.lastInsertedRowID)
    }

    private static func update(_ db: Database, _ table: String, _ columns: [(String, StoredValue)], id: StoredValue) throws {
        try db.execute(
            sql: "UPDATE \(table) SET \(columns.map { "\($0.0) = ?" }.joined(separator: ", ")) WHERE id = ?",
            arguments: StatementArguments(columns.map { $0.1.sqlite } + [id.sqlite])
        )
    }

    private static func liveJob(_ db: Database, dedupKey: String) throws -> ExportJob? {
        try job(db, "dedup_key = ? AND status IN ('PENDING', 'IN_PROGRESS', 'PAUSED', 'COMPLETED')", [dedupKey]).first
    }

    private static func activeTasks(_ db: Database, customer: String) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM export_tasks WHERE customer = ? AND status IN ('PENDING', 'IN_PROGRESS', 'PAUSED')", arguments: [customer]) ?? 0
    }

    private static func job(_ db: Database, _ condition: String, _ arguments: StatementArguments) throws -> [ExportJob] {
        try Row.fetchAll(db, sql: "SELECT * FROM export_jobs WHERE \(condition)", arguments: arguments).map { try ExportJob(row: SQLiteStoredRow($0, table: "export_jobs")) }
    }

    private static func attached(_ db: Database, jobId: Int) throws -> [ExportTask] {
        try tasks(db, "job_id = ? AND detached = 0 ORDER BY id", [jobId])
    }

    private static func tasks(_ db: Database, _ condition: String, _ arguments: StatementArguments) throws -> [ExportTask] {
        try Row.fetchAll(db, sql: "SELECT \(ExportTask.columns) FROM export_tasks WHERE \(condition)", arguments: arguments).map(task)
    }

    private static func task(_ db: Database, id: Int, customer: String?) throws -> ExportTask {
        guard let task = try tasks(db, "id = ?", [id]).first, customer == nil || task.customer == customer else {
            throw ServiceError.notFound("task id: \(id) is not found")
        }
        return task
    }

    /// Reads by position: GRDB's lookup by name (case-insensitive) was a third of a task read's decoding (issue #9).
    private static let taskColumns = SQLiteStoredRow.positions(ExportTask.columns)

    private static func task(_ row: Row) throws -> ExportTask {
        try ExportTask(row: SQLiteStoredRow(row, table: "export_tasks", positions: taskColumns))
    }
}
