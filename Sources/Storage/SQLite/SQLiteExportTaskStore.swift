import ExportCore
import Foundation
import GRDB
import GeoJSON
import MapDepotCore

/// Export jobs, tasks and the webhook outbox in SQLite.
///
/// SQLite runs one write transaction at a time, so admission's "find the live job, else insert one" is atomic;
/// the partial unique index `export_jobs_live` states the rule as a constraint as well (one live job per key).
public struct SQLiteExportTaskStore: ExportTaskStore {
    private let database: SQLiteDatabase
    /// How long a delivery is retried (default 24 h).
    private let retryBudget: TimeInterval
    /// Task reads by id, batched while others are in flight: status polling is the hottest route.
    private let taskReads: ReadCoalescer<Int, ExportTask>

    public init(database: SQLiteDatabase, webhookRetryBudget: TimeInterval = 86_400) {
        self.database = database
        self.retryBudget = webhookRetryBudget
        self.taskReads = ReadCoalescer { ids in
            try await database.pool.read { db in
                // Cached statements, one per batch size: compiling one (GRDB's authorizer included) cost as much as running it.
                let marks = repeatElement("?", count: ids.count).joined(separator: ",")
                let rows = try Row.fetchAll(db.cachedStatement(sql: "SELECT \(Self.taskColumns) FROM export_tasks WHERE id IN (\(marks))"), arguments: StatementArguments(ids))
                return try Dictionary(rows.map { row in let task = try Self.task(row); return (task.id, task) }, uniquingKeysWith: { first, _ in first })
            }
        }
    }

    static let liveStatuses = "('PENDING', 'IN_PROGRESS', 'PAUSED', 'COMPLETED')"

    // MARK: Admission

    public func liveJob(dedupKey: String) async throws -> ExportJob? {
        try await database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM export_jobs WHERE dedup_key = ? AND status IN \(Self.liveStatuses)", arguments: [dedupKey])
                .map(Self.job)
        }
    }

    public func admit(_ new: NewExportTask, render: @escaping WebhookRenderer) async throws -> (ExportTask, AdmissionOutcome) {
        let request = new.request
        let now = Timestamp.milliseconds(new.createdAt)
        let stamp = Timestamp.string(now)
        let budget = retryBudget
        return try await database.pool.write { db in
            if let job = try Row.fetchOne(
                db, sql: "SELECT * FROM export_jobs WHERE dedup_key = ? AND status IN \(Self.liveStatuses)", arguments: [new.dedupKey]
            ).map(Self.job) {
                if job.status == .completed {
                    // A re-request keeps the artifacts longer (SPEC "Lifecycle").
                    let extended = max(job.expiredAt ?? now, now.addingTimeInterval(Double(new.expiryDays) * 86_400))
                    try db.execute(sql: "UPDATE export_jobs SET expired_at = ?, updated_at = ? WHERE id = ?", arguments: [Timestamp.string(extended), stamp, job.id])
                    try db.execute(
                        sql: "UPDATE export_tasks SET expired_at = ?, updated_at = ? WHERE job_id = ? AND detached = 0",
                        arguments: [Timestamp.string(extended), stamp, job.id]
                    )
                }
                if let existing = try Row.fetchOne(
                    db, sql: "SELECT \(Self.taskColumns) FROM export_tasks WHERE job_id = ? AND customer = ? AND detached = 0 ORDER BY id DESC LIMIT 1",
                    arguments: [job.id, new.customer]
                ).map(Self.task) {
                    let merged = Webhook.merge(existing.webhooks, request.webhooks)
                    try db.execute(
                        sql: "UPDATE export_tasks SET webhooks = ?, updated_at = ? WHERE id = ?",
                        arguments: [Webhook.storedText(merged), stamp, existing.id]
                    )
                    let task = try Self.fetchTask(db, id: existing.id)
                    if job.status == .completed {
                        try Self.enqueue(db, task: task, event: .taskCompleted, only: request.webhooks, now: now, budget: budget, render: render)
                    }
                    return (task, .existingTask)
                }
                let id = try Self.insertTask(db, new, jobId: job.id, status: job.status, now: stamp)
                try db.execute(
                    sql: """
                        UPDATE export_tasks SET progress = ?, artifacts = ?, expired_at = (SELECT expired_at FROM export_jobs WHERE id = ?),
                          finished_at = ?, estimated_time = ? WHERE id = ?
                        """,
                    arguments: [
                        job.progress, Artifact.storedText(job.artifacts), job.id,
                        job.status == .completed ? stamp : nil, job.status == .completed ? 0 : new.estimate.seconds, id,
                    ]
                )
                let task = try Self.fetchTask(db, id: id)
                if job.status == .completed {
                    try Self.enqueue(db, task: task, event: .taskCompleted, only: nil, now: now, budget: budget, render: render)
                }
                return (task, .sharedJob)
            }
            // Inside the write transaction (SQLite has one writer): concurrent admissions count one after another.
            let active = try Int.fetchOne(
                db, sql: "SELECT count(*) FROM export_tasks WHERE customer = ? AND status IN ('PENDING', 'IN_PROGRESS', 'PAUSED')",
                arguments: [new.customer]
            ) ?? 0
            if let refusal = new.limitRefusal(active: active) { throw refusal }
            try db.execute(
                sql: """
                    INSERT INTO export_jobs (dedup_key, catalog_record_id, roi, status, estimated_tiles, estimated_size, estimated_time,
                      created_at, updated_at) VALUES (?, ?, ?, 'PENDING', ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    new.dedupKey, request.catalogRecordID.uuidString.lowercased(), CanonicalJSON.text(request.roiJSON),
                    new.estimate.tiles, new.estimate.bytes, new.estimate.seconds, stamp, stamp,
                ]
            )
            let jobId = Int(db.lastInsertedRowID)
            let id = try Self.insertTask(db, new, jobId: jobId, status: .pending, now: stamp)
            return (try Self.fetchTask(db, id: id), .queued)
        }
    }

    private static func insertTask(_ db: Database, _ new: NewExportTask, jobId: Int, status: TaskStatus, now: String) throws -> Int {
        let request = new.request
        try db.execute(
            sql: """
                INSERT INTO export_tasks (customer, catalog_record_id, domain, roi, artifact_crs, description, keywords, parameters,
                  webhooks, estimated_size, estimated_time, estimated_tiles, status, created_at, updated_at, job_id, singular_webhook)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                new.customer, request.catalogRecordID.uuidString.lowercased(), request.domain.rawValue,
                CanonicalJSON.text(request.roiJSON), request.artifactCRS, request.description,
                request.keywords.map(CanonicalJSON.text), request.parameters.map(CanonicalJSON.text),
                Webhook.storedText(request.webhooks), new.estimate.bytes, new.estimate.seconds,
                new.estimate.tiles, status.rawValue, now, now, jobId, request.usesSingularWebhook,
            ]
        )
        let id = Int(db.lastInsertedRowID)
        try recordTransition(db, id: id, from: nil, to: status, at: now, reason: nil)
        return id
    }

    public func activeTaskCount(customer: String) async throws -> Int {
        try await database.pool.read { db in
            try Int.fetchOne(
                db, sql: "SELECT count(*) FROM export_tasks WHERE customer = ? AND status IN ('PENDING', 'IN_PROGRESS', 'PAUSED')",
                arguments: [customer]
            ) ?? 0
        }
    }

    public func committedBytes() async throws -> Int64 {
        try await database.pool.read { db in
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
        try await database.pool.read { db in
            let filter = status == nil ? "status != 'ARCHIVED'" : "status = ?"
            var arguments: StatementArguments = [customer]
            if let status { _ = arguments.append(contentsOf: [status.rawValue]) }
            _ = arguments.append(contentsOf: [limit])
            return try Row.fetchAll(
                db, sql: "SELECT \(Self.taskColumns) FROM export_tasks WHERE customer = ? AND \(filter) ORDER BY id DESC LIMIT ?", arguments: arguments
            ).map(Self.task)
        }
    }

    public func customerHasTask(customer: String, jobId: Int) async throws -> Bool {
        try await database.pool.read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM export_tasks WHERE customer = ? AND job_id = ? AND detached = 0 AND status <> 'ABORTED' LIMIT 1", arguments: [customer, jobId]) ?? false
        }
    }

    public func transitions(id: Int) async throws -> [TaskTransition] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM export_task_transitions WHERE task_id = ? ORDER BY rowid", arguments: [id]).map { row in
                let from: String? = row["from_status"]
                return TaskTransition(
                    from: from.flatMap(TaskStatus.init(rawValue:)), to: TaskStatus(rawValue: row["to_status"]) ?? .pending,
                    at: Timestamp.parse(row["at"]) ?? Date(timeIntervalSince1970: 0), reason: row["reason"]
                )
            }
        }
    }

    // MARK: Worker

    public func claimNextJob(now: Date, lease: JobLease, render: @escaping WebhookRenderer) async throws -> ExportJob? {
        let budget = retryBudget
        return try await database.pool.write { db in
            guard let id = try Int.fetchOne(db, sql: "SELECT id FROM export_jobs WHERE status = 'PENDING' ORDER BY id LIMIT 1") else { return nil }
            try Self.transition(db, jobId: id, to: .inProgress, reason: nil, artifacts: nil, expiresAt: nil, now: now, budget: budget, render: render)
            try db.execute(
                sql: "UPDATE export_jobs SET lease_owner = ?, lease_expires_at = ? WHERE id = ?",
                arguments: [lease.owner, Timestamp.string(lease.until), id]
            )
            return try Row.fetchOne(db, sql: "SELECT * FROM export_jobs WHERE id = ?", arguments: [id]).map(Self.job)
        }
    }

    public func renewLease(jobId: Int, lease: JobLease) async throws -> Bool {
        try await database.pool.write { db in
            try db.execute(
                sql: "UPDATE export_jobs SET lease_expires_at = ? WHERE id = ? AND lease_owner = ? AND status = 'IN_PROGRESS'",
                arguments: [Timestamp.string(lease.until), jobId, lease.owner]
            )
            return db.changesCount > 0
        }
    }

    public func finishJob(
        jobId: Int, lease: JobLease, to status: TaskStatus, reason: String?, artifacts: [Artifact]?, expiresAt: Date?, now: Date,
        render: @escaping WebhookRenderer
    ) async throws -> Bool {
        let budget = retryBudget
        return try await database.pool.write { db in
            guard
                try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM export_jobs WHERE id = ? AND status = 'IN_PROGRESS' AND lease_owner = ?", arguments: [jobId, lease.owner]
                ) == true
            else { return false }
            try Self.transition(db, jobId: jobId, to: status, reason: reason, artifacts: artifacts, expiresAt: expiresAt, now: now, budget: budget, render: render)
            return true
        }
    }

    public func requeueExpiredLeases(now: Date) async throws -> [Int] {
        let stamp = Timestamp.string(now)
        return try await database.pool.write { db in
            try Self.requeue(db, where: "(lease_expires_at IS NULL OR lease_expires_at < ?)", arguments: [stamp], now: stamp)
        }
    }

    public func job(id: Int) async throws -> ExportJob? {
        try await database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM export_jobs WHERE id = ?", arguments: [id]).map(Self.job)
        }
    }

    public func recordProgress(
        jobId: Int, lease: JobLease, progress: Int, batchesDone: Int, tilesDone: Int, estimatedTime: Int64, event: WebhookEvent?,
        now: Date, render: @escaping WebhookRenderer
    ) async throws -> ExportJob? {
        let stamp = Timestamp.string(now)
        let budget = retryBudget
        return try await database.pool.write { db in
            try db.execute(
                sql: """
                    UPDATE export_jobs SET progress = ?, batches_done = ?, tiles_done = ?, estimated_time = ?, updated_at = ?,
                      lease_expires_at = ? WHERE id = ? AND status = 'IN_PROGRESS' AND lease_owner = ?
                    """,
                arguments: [progress, batchesDone, tilesDone, estimatedTime, stamp, Timestamp.string(lease.until), jobId, lease.owner]
            )
            guard db.changesCount > 0 else { return nil }
            try db.execute(
                sql: "UPDATE export_tasks SET progress = ?, estimated_time = ?, updated_at = ? WHERE job_id = ? AND detached = 0 AND status = 'IN_PROGRESS'",
                arguments: [progress, estimatedTime, stamp, jobId]
            )
            if let event {
                for task in try Row.fetchAll(db, sql: "SELECT \(Self.taskColumns) FROM export_tasks WHERE job_id = ? AND detached = 0", arguments: [jobId]).map(Self.task) {
                    try Self.enqueue(db, task: task, event: event, only: nil, now: now, budget: budget, render: render)
                }
            }
            return try Row.fetchOne(db, sql: "SELECT * FROM export_jobs WHERE id = ?", arguments: [jobId]).map(Self.job)
        }
    }

    public func transitionJob(
        jobId: Int, to status: TaskStatus, reason: String?, artifacts: [Artifact]?, expiresAt: Date?, now: Date, render: @escaping WebhookRenderer
    ) async throws {
        let budget = retryBudget
        try await database.pool.write { db in
            try Self.transition(db, jobId: jobId, to: status, reason: reason, artifacts: artifacts, expiresAt: expiresAt, now: now, budget: budget, render: render)
        }
    }

    /// The job's new state, copied to its attached tasks with their transitions and events.
    private static func transition(
        _ db: Database, jobId: Int, to status: TaskStatus, reason: String?, artifacts: [Artifact]?, expiresAt: Date?, now: Date,
        budget: TimeInterval, render: @escaping WebhookRenderer
    ) throws {
        // Idempotent: a finished job moved again to the same status (two sweepers) changes nothing.
        if status.isFinished, try String.fetchOne(db, sql: "SELECT status FROM export_jobs WHERE id = ?", arguments: [jobId]) == status.rawValue {
            return
        }
        let stamp = Timestamp.string(now)
        let finished = status.isFinished || status == .paused ? stamp : nil
        var sets = ["status = ?", "updated_at = ?", "pause_requested = 0"]
        if status != .inProgress { sets.append("lease_owner = NULL, lease_expires_at = NULL") }
        var arguments: StatementArguments = [status.rawValue, stamp]
        if status != .inProgress && status != .pending { sets.append("abort_requested = 0") }
        if status.isFinished { sets.append("finished_at = coalesce(finished_at, ?)"); _ = arguments.append(contentsOf: [finished]) }
        if let reason { sets.append("error_reason = ?"); _ = arguments.append(contentsOf: [reason]) }
        if let artifacts { sets.append("artifacts = ?"); _ = arguments.append(contentsOf: [Artifact.storedText(artifacts)]) }
        if let expiresAt { sets.append("expired_at = ?"); _ = arguments.append(contentsOf: [Timestamp.string(expiresAt)]) }
        if status == .completed { sets.append("progress = 100") }
        if status == .pending { sets.append("progress = progress") }
        _ = arguments.append(contentsOf: [jobId])
        try db.execute(sql: "UPDATE export_jobs SET \(sets.joined(separator: ", ")) WHERE id = ?", arguments: arguments)
        guard let job = try Row.fetchOne(db, sql: "SELECT * FROM export_jobs WHERE id = ?", arguments: [jobId]) else { return }
        let tasks = try Row.fetchAll(db, sql: "SELECT \(Self.taskColumns) FROM export_tasks WHERE job_id = ? AND detached = 0", arguments: [jobId]).map(task)
        for old in tasks {
            try db.execute(
                sql: """
                    UPDATE export_tasks SET status = ?, progress = ?, artifacts = ?, error_reason = ?, expired_at = ?, estimated_time = ?,
                      finished_at = CASE WHEN ? THEN coalesce(finished_at, ?) ELSE finished_at END, updated_at = ? WHERE id = ?
                    """,
                arguments: [
                    status.rawValue, job["progress"] as Int, job["artifacts"] as String, job["error_reason"] as String?,
                    job["expired_at"] as String?, status == .completed ? 0 : (job["estimated_time"] as Int64), status.isFinished, stamp,
                    stamp, old.id,
                ]
            )
            if old.status != status {
                try recordTransition(db, id: old.id, from: old.status, to: status, at: stamp, reason: reason)
            }
            if let event = status.webhookEvent {
                try enqueue(db, task: try fetchTask(db, id: old.id), event: event, only: nil, now: now, budget: budget, render: render)
            }
        }
    }

    public func transitionTask(id: Int, to status: TaskStatus, reason: String?, now: Date, render: @escaping WebhookRenderer) async throws {
        let stamp = Timestamp.string(now)
        let budget = retryBudget
        try await database.pool.write { db in
            let old = try Self.fetchTask(db, id: id)
            guard old.status != status else { return }
            try db.execute(
                sql: "UPDATE export_tasks SET status = ?, detached = 1, updated_at = ?, finished_at = coalesce(finished_at, ?) WHERE id = ?",
                arguments: [status.rawValue, stamp, stamp, id]
            )
            try Self.recordTransition(db, id: id, from: old.status, to: status, at: stamp, reason: reason)
            if let event = status.webhookEvent {
                try Self.enqueue(db, task: try Self.fetchTask(db, id: id), event: event, only: nil, now: now, budget: budget, render: render)
            }
        }
    }

    public func requestStop(jobId: Int, pause: Bool, abort: Bool) async throws {
        try await database.pool.write { db in
            try db.execute(
                sql: "UPDATE export_jobs SET pause_requested = pause_requested OR ?, abort_requested = abort_requested OR ? WHERE id = ?",
                arguments: [pause, abort, jobId]
            )
        }
    }

    public func attachedTasks(jobId: Int) async throws -> [ExportTask] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.taskColumns) FROM export_tasks WHERE job_id = ? AND detached = 0", arguments: [jobId]).map(Self.task)
        }
    }

    public func requeueInProgress(now: Date) async throws -> [Int] {
        let stamp = Timestamp.string(now)
        return try await database.pool.write { db in
            try Self.requeue(db, where: "1", arguments: [], now: stamp)
        }
    }

    /// IN_PROGRESS jobs matching `condition` back to PENDING, with their tasks; they keep their checkpoint.
    private static func requeue(_ db: Database, where condition: String, arguments: StatementArguments, now stamp: String) throws -> [Int] {
        let ids = try Int.fetchAll(db, sql: "SELECT id FROM export_jobs WHERE status = 'IN_PROGRESS' AND \(condition) ORDER BY id", arguments: arguments)
        for id in ids {
            try db.execute(
                sql: "UPDATE export_jobs SET status = 'PENDING', lease_owner = NULL, lease_expires_at = NULL, updated_at = ? WHERE id = ?",
                arguments: [stamp, id]
            )
            for task in try Int.fetchAll(db, sql: "SELECT id FROM export_tasks WHERE job_id = ? AND detached = 0", arguments: [id]) {
                try db.execute(sql: "UPDATE export_tasks SET status = 'PENDING', updated_at = ? WHERE id = ?", arguments: [stamp, task])
                try recordTransition(db, id: task, from: .inProgress, to: .pending, at: stamp, reason: "the process running the export stopped; it resumes")
            }
        }
        return ids
    }

    // MARK: Sweeper

    public func expiredJobs(now: Date) async throws -> [ExportJob] {
        try await database.pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM export_jobs WHERE status = 'COMPLETED' AND expired_at <= ? ORDER BY id", arguments: [Timestamp.string(now)]
            ).map(Self.job)
        }
    }

    public func finishedTasks(before date: Date) async throws -> [ExportTask] {
        try await database.pool.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT \(Self.taskColumns) FROM export_tasks WHERE status IN ('COMPLETED', 'FAILED', 'ABORTED', 'EXPIRED') AND finished_at < ? ORDER BY id",
                arguments: [Timestamp.string(date)]
            ).map(Self.task)
        }
    }

    // MARK: Outbox

    /// One delivery per subscribed webhook of the task (or of `only`, the webhooks a request just added).
    private static func enqueue(
        _ db: Database, task: ExportTask, event: WebhookEvent, only: [Webhook]?, now: Date, budget: TimeInterval, render: @escaping WebhookRenderer
    ) throws {
        let targets = (only ?? task.webhooks).filter { $0.events.contains(event) }
        guard !targets.isEmpty else { return }
        let body = render(task, event, now)
        let stamp = Timestamp.string(now)
        for webhook in targets {
            let secret = task.webhooks.first { $0.url == webhook.url }?.secret ?? webhook.secret
            try db.execute(
                sql: """
                    INSERT INTO webhook_deliveries (id, task_id, event, url, secret, body, state, next_attempt_at, created_at, expires_at)
                    VALUES (?, ?, ?, ?, ?, ?, 'PENDING', ?, ?, ?)
                    """,
                arguments: [
                    UUID().uuidString.lowercased(), task.id, event.rawValue, webhook.url, secret, body, stamp, stamp,
                    Timestamp.string(now.addingTimeInterval(budget)),
                ]
            )
        }
    }

    public func claimDueDeliveries(now: Date, until: Date, limit: Int) async throws -> [WebhookDelivery] {
        try await database.pool.write { db in
            let due = try Row.fetchAll(
                db, sql: "SELECT * FROM webhook_deliveries WHERE state = 'PENDING' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?",
                arguments: [Timestamp.string(now), limit]
            ).map(Self.delivery)
            for delivery in due {
                try db.execute(
                    sql: "UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ?",
                    arguments: [Timestamp.string(until), delivery.id.uuidString.lowercased()]
                )
            }
            return due
        }
    }

    public func recordAttempt(_ delivery: WebhookDelivery) async throws {
        try await database.pool.write { db in
            try db.execute(
                sql: """
                    UPDATE webhook_deliveries SET state = ?, attempts = ?, next_attempt_at = ?, last_attempt_at = ?, last_status_code = ?,
                      last_error = ?, delivered_at = ? WHERE id = ?
                    """,
                arguments: [
                    delivery.state.rawValue, delivery.attempts, Timestamp.string(delivery.nextAttemptAt), delivery.lastAttemptAt.map(Timestamp.string),
                    delivery.lastStatusCode, delivery.lastError, delivery.deliveredAt.map(Timestamp.string), delivery.id.uuidString.lowercased(),
                ]
            )
        }
    }

    public func deliveries(taskId: Int) async throws -> [WebhookDelivery] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM webhook_deliveries WHERE task_id = ? ORDER BY created_at, rowid", arguments: [taskId]).map(Self.delivery)
        }
    }

    // MARK: Rows

    private static func recordTransition(_ db: Database, id: Int, from: TaskStatus?, to: TaskStatus, at: String, reason: String?) throws {
        try db.execute(
            sql: "INSERT INTO export_task_transitions (task_id, from_status, to_status, at, reason) VALUES (?, ?, ?, ?, ?)",
            arguments: [id, from?.rawValue, to.rawValue, at, reason]
        )
    }

    private static func fetchTask(_ db: Database, id: Int) throws -> ExportTask {
        guard let row = try Row.fetchOne(db, sql: "SELECT \(Self.taskColumns) FROM export_tasks WHERE id = ?", arguments: [id]) else {
            throw ServiceError.notFound("task id: \(id) is not found")
        }
        return try task(row)
    }

    static func date(_ row: Row, _ column: String) -> Date? {
        let text: String? = row[column]
        return text.flatMap(Timestamp.parse)
    }

    static func job(_ row: Row) throws -> ExportJob {
        let record: String = row["catalog_record_id"]
        return ExportJob(
            id: row["id"], dedupKey: row["dedup_key"], catalogRecordID: UUID(uuidString: record) ?? UUID(),
            roi: try CanonicalJSON.parse(row["roi"]), status: TaskStatus(rawValue: row["status"]) ?? .pending, progress: row["progress"],
            batchesDone: row["batches_done"], tilesDone: row["tiles_done"], estimatedTiles: row["estimated_tiles"],
            estimatedSize: row["estimated_size"], artifacts: try Artifact.list(stored: row["artifacts"]),
            createdAt: date(row, "created_at") ?? Date(timeIntervalSince1970: 0), expiredAt: date(row, "expired_at"),
            pauseRequested: row["pause_requested"], abortRequested: row["abort_requested"]
        )
    }

    /// The columns ``task(_:)`` reads, by position: GRDB's lookup by name (case-insensitive) was a third of a task
    /// read's decoding under load (issue #9, `bench http`).
    static let taskColumns = """
        id, job_id, singular_webhook, customer, catalog_record_id, domain, roi, artifact_crs, description, keywords, parameters, \
        webhooks, estimated_size, estimated_time, estimated_tiles, status, error_reason, progress, artifacts, created_at, updated_at, \
        expired_at, finished_at
        """

    /// A task row selected with ``taskColumns``; a value no writer of ours produces throws ``CorruptRow`` (a 500 with a
    /// log line) instead of turning into another valid task.
    static func task(_ row: Row) throws -> ExportTask {
        func json(_ index: Int) throws -> JSONValue? { try (row[index] as String?).map(CanonicalJSON.parse) }
        func date(_ index: Int) throws -> Date? {
            guard let text = row[index] as String? else { return nil }
            guard let date = Timestamp.parse(text) else { throw CorruptRow(table: "export_tasks", column: index, value: text) }
            return date
        }
        func required<Value>(_ value: Value?, _ index: Int) throws -> Value {
            guard let value else { throw CorruptRow(table: "export_tasks", column: index, value: String(describing: row[index] as DatabaseValue)) }
            return value
        }
        let id: Int = row[0]
        return ExportTask(
            id: id, jobId: row[1], usesSingularWebhook: row[2], customer: row[3],
            catalogRecordID: try required(UUID(uuidString: row[4]), 4), domain: try required(ProductDomain(rawValue: row[5]), 5),
            roi: try required(json(6), 6), artifactCRS: row[7], description: row[8], keywords: try json(9), parameters: try json(10),
            webhooks: try Webhook.list(stored: row[11]), estimatedSize: row[12], estimatedTime: row[13], estimatedTiles: row[14],
            status: try required(TaskStatus(rawValue: row[15]), 15), errorReason: row[16], progress: row[17],
            artifacts: try Artifact.list(stored: row[18]), createdAt: try required(date(19), 19), updatedAt: try required(date(20), 20),
            expiredAt: try date(21), finishedAt: try date(22)
        )
    }

    static func delivery(_ row: Row) throws -> WebhookDelivery {
        let id: String = row["id"]
        return WebhookDelivery(
            id: UUID(uuidString: id) ?? UUID(), taskId: row["task_id"], event: WebhookEvent(rawValue: row["event"]) ?? .taskCompleted,
            url: row["url"], secret: row["secret"], body: row["body"], state: WebhookDelivery.State(rawValue: row["state"]) ?? .pending,
            attempts: row["attempts"], nextAttemptAt: date(row, "next_attempt_at") ?? Date(), lastAttemptAt: date(row, "last_attempt_at"),
            lastStatusCode: row["last_status_code"], lastError: row["last_error"], createdAt: date(row, "created_at") ?? Date(),
            expiresAt: date(row, "expires_at") ?? Date(), deliveredAt: date(row, "delivered_at")
        )
    }
}
