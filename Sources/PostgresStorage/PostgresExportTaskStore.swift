import ExportCore
import Foundation
import Logging
import MapDepotCore
import PostgresNIO

/// Export jobs, tasks and the webhook outbox in PostgreSQL, for several nodes on one database: each change locks the
/// job's row, reads its state, asks ``ExportRules`` and writes the answer, in one transaction.
///
/// Every writer of a job's tasks holds the job's row lock, so the state a rule sees is the state it changes. Jobs are
/// claimed with `FOR UPDATE SKIP LOCKED`, so two workers never take one job. Two admissions of equivalent requests at
/// the same moment on different nodes both try to insert a live job; the partial unique index `export_jobs_live` lets
/// one through, and the other retries and joins it.
public struct PostgresExportTaskStore: ExportTaskStore {
    let database: PostgresDatabase
    private let retryBudget: TimeInterval

    public init(database: PostgresDatabase, webhookRetryBudget: TimeInterval) {
        self.database = database
        self.retryBudget = webhookRetryBudget
    }

    private var logger: Logger { database.logger }

    // MARK: Admission

    public func liveJob(dedupKey: String) async throws -> ExportJob? {
        try await jobs(pooled, "dedup_key = $1 AND status IN \(Self.live)", [.text(dedupKey)]).first
    }

    public func admit(_ new: NewExportTask) async throws -> (ExportTask, AdmissionOutcome) {
        for attempt in 0..<5 {
            do {
                return try await admitOnce(new)
            } catch let error as PSQLError where error.isUniqueViolation && attempt < 4 {
                continue  // another node queued the same job a moment ago: join it
            }
        }
        throw ServiceError(.conflict, "the export could not be admitted; try again")
    }

    private func admitOnce(_ new: NewExportTask) async throws -> (ExportTask, AdmissionOutcome) {
        try await transaction { connection in
            // One admission per customer at a time, on every node, so the active-task count is exact.
            try await run(connection, "SELECT pg_advisory_xact_lock(hashtext($1))", [.text(new.customer)])
            let live = try await jobs(connection, "dedup_key = $1 AND status IN \(Self.live) FOR UPDATE", [.text(new.dedupKey)]).first
            var state: JobState?
            if let live { state = JobState(job: live, tasks: try await attached(connection, jobId: live.id)) }
            var plan = try ExportRules.admit(new, live: state, activeTasks: try await activeTasks(connection, customer: new.customer))
            if let job = plan.changes.newJob { plan = plan.assigning(jobId: try await insert(connection, "export_jobs", job.insertColumns), taskId: nil) }
            if let task = plan.changes.newTask {
                plan = plan.assigning(jobId: nil, taskId: try await insert(connection, "export_tasks", task.insertColumns))
            }
            try await write(connection, plan.changes)
            return (plan.task, plan.outcome)
        }
    }

    public func activeTaskCount(customer: String) async throws -> Int {
        try await activeTasks(pooled, customer: customer)
    }

    public func committedBytes() async throws -> Int64 {
        Int64(
            try await rows(
                pooled,
                "SELECT coalesce(sum(estimated_size * (100 - progress) / 100), 0)::BIGINT AS n FROM export_jobs WHERE status IN ('PENDING', 'IN_PROGRESS', 'PAUSED')",
                []
            ).first?.int("n") ?? 0
        )
    }

    // MARK: Queries

    public func task(id: Int, customer: String?) async throws -> ExportTask? {
        // Not batched (ReadCoalescer) as on SQLite: after PostgreSQL dropped every connection under load, one batch's
        // query never returned, and every task read after it waited behind it (issue #9); one stuck read must stay one.
        guard let task = try await tasks(pooled, "id = $1", [.integer(id)]).first, customer == nil || task.customer == customer else { return nil }
        return task
    }

    public func tasks(customer: String, limit: Int, status: TaskStatus?) async throws -> [ExportTask] {
        try await tasks(
            pooled, "customer = $1 AND (status = $2 OR ($2 IS NULL AND status != 'ARCHIVED')) ORDER BY id DESC LIMIT $3",
            [.text(customer), .text(status?.rawValue), .integer(limit)]
        )
    }

    public func customerHasTask(customer: String, jobId: Int) async throws -> Bool {
        !(try await rows(
            pooled, "SELECT 1 FROM export_tasks WHERE customer = $1 AND job_id = $2 AND NOT detached AND status <> 'ABORTED' LIMIT 1",
            [.text(customer), .integer(jobId)]
        )).isEmpty
    }

    public func transitions(id: Int) async throws -> [TaskTransition] {
        try await rows(pooled, "SELECT * FROM export_task_transitions WHERE task_id = $1 ORDER BY id", [.integer(id)])
            .map { try TaskTransition(row: PostgresStoredRow(row: $0, table: "export_task_transitions")) }
    }

    public func job(id: Int) async throws -> ExportJob? {
        try await jobs(pooled, "id = $1", [.integer(id)]).first
    }

    public func attachedTasks(jobId: Int) async throws -> [ExportTask] {
        try await attached(pooled, jobId: jobId)
    }

    public func expiredJobs(now: Date) async throws -> [ExportJob] {
        try await jobs(pooled, "status = 'COMPLETED' AND expired_at <= $1 ORDER BY id", [.date(now)])
    }

    public func finishedTasks(before date: Date) async throws -> [ExportTask] {
        try await tasks(pooled, "status IN ('COMPLETED', 'FAILED', 'ABORTED', 'EXPIRED') AND finished_at < $1 ORDER BY id", [.date(date)])
    }

    // MARK: Changes

    public func change(_ change: JobChange, of selection: JobSelection) async throws -> [ExportChanges] {
        let (condition, binds): (String, [StoredValue]) =
            switch selection {
            case .id(let id): ("id = $1 FOR UPDATE", [.integer(id)])
            case .oldestPending: ("status = 'PENDING' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED", [])
            case .inProgress(let before?):
                ("status = 'IN_PROGRESS' AND (lease_expires_at IS NULL OR lease_expires_at < $1) ORDER BY id FOR UPDATE SKIP LOCKED", [.date(before)])
            // Only for a single process (the worker does not ask for it when the state is shared).
            case .inProgress(nil): ("status = 'IN_PROGRESS' ORDER BY id FOR UPDATE", [])
            }
        return try await transaction { connection in
            var written: [ExportChanges] = []
            for job in try await jobs(connection, condition, binds) {
                let state = JobState(job: job, tasks: try await attached(connection, jobId: job.id))
                guard let changes = try ExportRules.decide(change, over: state), !changes.isEmpty else { continue }
                try await write(connection, changes)
                written.append(changes)
            }
            return written
        }
    }

    public func transitionTask(id: Int, to status: TaskStatus, reason: String?, now: Date) async throws {
        try await transaction { connection in
            let task = try await lockedTask(connection, id: id, customer: nil).task
            try await write(connection, try ExportRules.detach(task, to: status, reason: reason, now: now))
        }
    }

    public func control(_ action: ExportControl, taskId: Int, customer: String, now: Date) async throws -> ExportRules.ControlPlan {
        try await transaction { connection in
            let (task, job) = try await lockedTask(connection, id: taskId, customer: customer)
            let plan = try ExportRules.control(action, task: task, state: JobState(job: job, tasks: try await attached(connection, jobId: job.id)), now: now)
            try await write(connection, plan.changes)
            return plan
        }
    }

    /// A task and its job, read after the job's row lock (the lock every writer of the task holds).
    private func lockedTask(_ connection: Runner, id: Int, customer: String?) async throws -> (task: ExportTask, job: ExportJob) {
        let missing = ServiceError.notFound("task id: \(id) is not found")
        guard let jobId = try await rows(connection, "SELECT job_id FROM export_tasks WHERE id = $1", [.integer(id)]).first?.int("job_id"),
            let job = try await jobs(connection, "id = $1 FOR UPDATE", [.integer(jobId)]).first,
            let task = try await tasks(connection, "id = $1", [.integer(id)]).first, customer == nil || task.customer == customer
        else { throw missing }
        return (task, job)
    }

    // MARK: Outbox

    public func claimDueDeliveries(now: Date, until: Date, limit: Int) async throws -> [WebhookDelivery] {
        try await transaction { connection in
            let due = try await rows(
                connection,
                "SELECT * FROM webhook_deliveries WHERE state = 'PENDING' AND next_attempt_at <= $1 ORDER BY next_attempt_at, seq LIMIT $2 FOR UPDATE SKIP LOCKED",
                [.date(now), .integer(limit)]
            ).map { try WebhookDelivery(row: PostgresStoredRow(row: $0, table: "webhook_deliveries")) }
            for delivery in due {
                try await run(connection, "UPDATE webhook_deliveries SET next_attempt_at = $1 WHERE id = $2", [.date(until), .text(delivery.id.uuidString.lowercased())])
            }
            return due
        }
    }

    public func recordAttempt(_ delivery: WebhookDelivery) async throws {
        try await update(pooled, "webhook_deliveries", delivery.attemptColumns, id: .text(delivery.id.uuidString.lowercased()))
    }

    public func deliveries(taskId: Int) async throws -> [WebhookDelivery] {
        try await rows(pooled, "SELECT * FROM webhook_deliveries WHERE task_id = $1 ORDER BY created_at, seq", [.integer(taskId)])
            .map { try WebhookDelivery(row: PostgresStoredRow(row: $0, table: "webhook_deliveries")) }
    }

    // MARK: Rows

    private static let live = "('PENDING', 'IN_PROGRESS', 'PAUSED', 'COMPLETED')"

    /// Runs a statement: on a pooled connection (`database.query`) or on a transaction's.
    private typealias Runner = @Sendable (PostgresQuery, Logger) async throws -> PostgresRowSequence

    /// Statements on pooled connections, each bounded by the database's operation timeout.
    private var pooled: Runner { { [database] query, logger in try await database.query(query, logger: logger) } }

    /// Statements in a transaction (bounded as a whole).
    private static func on(_ connection: PostgresConnection) -> Runner { { query, logger in try await connection.query(query, logger: logger) } }

    private func transaction<Result: Sendable>(_ body: @escaping @Sendable (Runner) async throws -> Result) async throws -> Result {
        try await database.transaction { connection in try await body(Self.on(connection)) }
    }

    private func rows(_ runner: Runner, _ sql: String, _ binds: [StoredValue]) async throws -> [PostgresRandomAccessRow] {
        var bindings = PostgresBindings(capacity: binds.count)
        for value in binds {
            switch value {
            case .null: bindings.appendNull()
            case .text(let text): bindings.append(text)
            case .integer(let number): bindings.append(number)
            case .boolean(let flag): bindings.append(flag)
            }
        }
        return try await runner(PostgresQuery(unsafeSQL: sql, binds: bindings), logger).all()
    }

    private func run(_ runner: Runner, _ sql: String, _ binds: [StoredValue]) async throws {
        _ = try await rows(runner, sql, binds)
    }

    /// Writes a rule's changes (its new job and task already inserted).
    private func write(_ connection: Runner, _ changes: ExportChanges) async throws {
        for job in changes.jobs { try await update(connection, "export_jobs", job.stateColumns, id: .integer(job.id)) }
        for task in changes.tasks { try await update(connection, "export_tasks", task.stateColumns, id: .integer(task.id)) }
        for transition in changes.transitions { _ = try await insert(connection, "export_task_transitions", transition.insertColumns) }
        for delivery in changes.deliveries(retryBudget: retryBudget) { _ = try await insert(connection, "webhook_deliveries", delivery.insertColumns) }
    }

    /// Inserts a row and returns its `id` when it has an integer one.
    private func insert(_ connection: Runner, _ table: String, _ columns: [(String, StoredValue)]) async throws -> Int {
        let marks = (1...columns.count).map { "$\($0)" }.joined(separator: ", ")
        let returning = table == "webhook_deliveries" ? "" : " RETURNING id"
        let sql = "INSERT INTO \(table) (\(columns.map(\.0).joined(separator: ", "))) VALUES (\(marks))\(returning)"
        return try await rows(connection, sql, columns.map(\.1)).first?.int("id") ?? 0
    }

    private func update(_ runner: Runner, _ table: String, _ columns: [(String, StoredValue)], id: StoredValue) async throws {
        let sets = columns.enumerated().map { "\($1.0) = $\($0 + 1)" }.joined(separator: ", ")
        _ = try await rows(runner, "UPDATE \(table) SET \(sets) WHERE id = $\(columns.count + 1)", columns.map(\.1) + [id])
    }

    private func activeTasks(_ runner: Runner, customer: String) async throws -> Int {
        try await rows(
            runner, "SELECT count(*) AS n FROM export_tasks WHERE customer = $1 AND status IN ('PENDING', 'IN_PROGRESS', 'PAUSED')", [.text(customer)]
        ).first?.int("n") ?? 0
    }

    private func jobs(_ runner: Runner, _ condition: String, _ binds: [StoredValue]) async throws -> [ExportJob] {
        try await rows(runner, "SELECT * FROM export_jobs WHERE \(condition)", binds).map { try ExportJob(row: PostgresStoredRow(row: $0, table: "export_jobs")) }
    }

    private func tasks(_ runner: Runner, _ condition: String, _ binds: [StoredValue]) async throws -> [ExportTask] {
        try await rows(runner, "SELECT \(ExportTask.columns) FROM export_tasks WHERE \(condition)", binds)
            .map { try ExportTask(row: PostgresStoredRow(row: $0, table: "export_tasks")) }
    }

    private func attached(_ runner: Runner, jobId: Int) async throws -> [ExportTask] {
        try await tasks(runner, "job_id = $1 AND NOT detached ORDER BY id", [.integer(jobId)])
    }
}
