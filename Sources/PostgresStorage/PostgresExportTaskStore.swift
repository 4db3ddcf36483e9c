import ExportCore
import Foundation
import GeoJSON
import Logging
import MapDepotCore
import PostgresNIO

/// Export jobs, tasks and the webhook outbox in PostgreSQL, for several nodes on one database.
///
/// Jobs are claimed with `FOR UPDATE SKIP LOCKED`, so two workers never take one job. Two admissions of
/// equivalent requests at the same moment on different nodes both try to insert a live job; the partial unique
/// index `export_jobs_live` lets one through, and the other retries and joins it.
public struct PostgresExportTaskStore: ExportTaskStore {
    let database: PostgresDatabase
    private let retryBudget: TimeInterval

    public init(database: PostgresDatabase, webhookRetryBudget: TimeInterval = 86_400) {
        self.database = database
        self.retryBudget = webhookRetryBudget
    }

    private var logger: Logger { database.logger }

    private func transaction<Result: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> Result) async throws -> Result {
        try await database.transaction(body)
    }

    // MARK: Admission

    public func liveJob(dedupKey: String) async throws -> ExportJob? {
        try await database.query(
            "SELECT * FROM export_jobs WHERE dedup_key = \(dedupKey) AND status IN ('PENDING', 'IN_PROGRESS', 'PAUSED', 'COMPLETED')", logger: logger
        ).all().first.map(Self.job)
    }

    public func admit(_ new: NewExportTask, render: @escaping WebhookRenderer) async throws -> (ExportTask, AdmissionOutcome) {
        for attempt in 0..<5 {
            do {
                return try await admitOnce(new, render: render)
            } catch let error as PSQLError where error.isUniqueViolation && attempt < 4 {
                continue  // another node queued the same job a moment ago: join it
            }
        }
        throw ServiceError(.conflict, "the export could not be admitted; try again")
    }

    private func admitOnce(_ new: NewExportTask, render: @escaping WebhookRenderer) async throws -> (ExportTask, AdmissionOutcome) {
        let request = new.request
        let now = Timestamp.milliseconds(new.createdAt)
        let stamp = Timestamp.string(now)
        let budget = retryBudget
        let logger = self.logger
        return try await transaction { connection in
            // One admission per customer at a time, on every node, so the active-task limit below counts exactly.
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(new.customer)))", logger: logger)
            if let job = try await connection.query(
                """
                SELECT * FROM export_jobs WHERE dedup_key = \(new.dedupKey) AND status IN ('PENDING', 'IN_PROGRESS', 'PAUSED', 'COMPLETED')
                FOR UPDATE
                """, logger: logger
            ).all().first.map(Self.job) {
                if job.status == .completed {
                    let extended = Timestamp.string(max(job.expiredAt ?? now, now.addingTimeInterval(Double(new.expiryDays) * 86_400)))
                    try await connection.query("UPDATE export_jobs SET expired_at = \(extended), updated_at = \(stamp) WHERE id = \(job.id)", logger: logger)
                    try await connection.query(
                        "UPDATE export_tasks SET expired_at = \(extended), updated_at = \(stamp) WHERE job_id = \(job.id) AND NOT detached", logger: logger
                    )
                }
                if let existing = try await connection.query(
                    "SELECT * FROM export_tasks WHERE job_id = \(job.id) AND customer = \(new.customer) AND NOT detached ORDER BY id DESC LIMIT 1",
                    logger: logger
                ).all().first.map(Self.task) {
                    let merged = Webhook.storedText(Webhook.merge(existing.webhooks, request.webhooks))
                    try await connection.query("UPDATE export_tasks SET webhooks = \(merged), updated_at = \(stamp) WHERE id = \(existing.id)", logger: logger)
                    let task = try await Self.fetchTask(connection, id: existing.id, logger: logger)
                    if job.status == .completed {
                        try await Self.enqueue(connection, task: task, event: .taskCompleted, only: request.webhooks, now: now, budget: budget, render: render, logger: logger)
                    }
                    return (task, .existingTask)
                }
                let id = try await Self.insertTask(connection, new, jobId: job.id, status: job.status, now: stamp, logger: logger)
                let completed = job.status == .completed
                try await connection.query(
                    """
                    UPDATE export_tasks SET progress = \(job.progress), artifacts = \(Artifact.storedText(job.artifacts)),
                      expired_at = (SELECT expired_at FROM export_jobs WHERE id = \(job.id)), finished_at = \(completed ? stamp : nil),
                      estimated_time = \(completed ? 0 : new.estimate.seconds) WHERE id = \(id)
                    """, logger: logger
                )
                let task = try await Self.fetchTask(connection, id: id, logger: logger)
                if completed {
                    try await Self.enqueue(connection, task: task, event: .taskCompleted, only: nil, now: now, budget: budget, render: render, logger: logger)
                }
                return (task, .sharedJob)
            }
            let active = try await connection.query(
                "SELECT count(*) AS n FROM export_tasks WHERE customer = \(new.customer) AND status IN ('PENDING', 'IN_PROGRESS', 'PAUSED')",
                logger: logger
            ).all().first?.int("n") ?? 0
            if let refusal = new.limitRefusal(active: active) { throw refusal }
            let jobRows = try await connection.query(
                """
                INSERT INTO export_jobs (dedup_key, catalog_record_id, roi, status, estimated_tiles, estimated_size, estimated_time, created_at, updated_at)
                VALUES (\(new.dedupKey), \(request.catalogRecordID.uuidString.lowercased()), \(CanonicalJSON.text(request.roiJSON)), 'PENDING',
                  \(new.estimate.tiles), \(new.estimate.bytes), \(new.estimate.seconds), \(stamp), \(stamp)) RETURNING id
                """, logger: logger
            ).all()
            let jobId = try jobRows[0].int("id")
            let id = try await Self.insertTask(connection, new, jobId: jobId, status: .pending, now: stamp, logger: logger)
            return (try await Self.fetchTask(connection, id: id, logger: logger), .queued)
        }
    }

    private static func insertTask(
        _ connection: PostgresConnection, _ new: NewExportTask, jobId: Int, status: TaskStatus, now: String, logger: Logger
    ) async throws -> Int {
        let request = new.request
        let rows = try await connection.query(
            """
            INSERT INTO export_tasks (customer, catalog_record_id, domain, roi, artifact_crs, description, keywords, parameters, webhooks,
              estimated_size, estimated_time, estimated_tiles, status, created_at, updated_at, job_id, singular_webhook)
            VALUES (\(new.customer), \(request.catalogRecordID.uuidString.lowercased()), \(request.domain.rawValue),
              \(CanonicalJSON.text(request.roiJSON)), \(request.artifactCRS), \(request.description), \(request.keywords.map(CanonicalJSON.text)),
              \(request.parameters.map(CanonicalJSON.text)), \(Webhook.storedText(request.webhooks)), \(new.estimate.bytes),
              \(new.estimate.seconds), \(new.estimate.tiles), \(status.rawValue), \(now), \(now), \(jobId), \(request.usesSingularWebhook))
            RETURNING id
            """, logger: logger
        ).all()
        let id = try rows[0].int("id")
        try await recordTransition(connection, id: id, from: nil, to: status, at: now, reason: nil, logger: logger)
        return id
    }

    public func activeTaskCount(customer: String) async throws -> Int {
        try await database.query(
            "SELECT count(*) AS n FROM export_tasks WHERE customer = \(customer) AND status IN ('PENDING', 'IN_PROGRESS', 'PAUSED')", logger: logger
        ).all().first?.int("n") ?? 0
    }

    public func committedBytes() async throws -> Int64 {
        Int64(
            try await database.query(
                """
                SELECT coalesce(sum(estimated_size * (100 - progress) / 100), 0)::BIGINT AS n FROM export_jobs
                WHERE status IN ('PENDING', 'IN_PROGRESS', 'PAUSED')
                """, logger: logger
            ).all().first?.int("n") ?? 0
        )
    }

    // MARK: Queries

    public func task(id: Int, customer: String?) async throws -> ExportTask? {
        // Not batched (ReadCoalescer) as on SQLite: after PostgreSQL dropped every connection under load, one batch's
        // query never returned, and every task read after it waited behind it (issue #9); one stuck read must stay one.
        guard let task = try await database.query("SELECT * FROM export_tasks WHERE id = \(id)", logger: logger).all().first.map(Self.task),
            customer == nil || task.customer == customer
        else { return nil }
        return task
    }

    public func tasks(customer: String, limit: Int, status: TaskStatus?) async throws -> [ExportTask] {
        let rows: PostgresRowSequence
        if let status {
            rows = try await database.query(
                "SELECT * FROM export_tasks WHERE customer = \(customer) AND status = \(status.rawValue) ORDER BY id DESC LIMIT \(limit)", logger: logger
            )
        } else {
            rows = try await database.query(
                "SELECT * FROM export_tasks WHERE customer = \(customer) AND status != 'ARCHIVED' ORDER BY id DESC LIMIT \(limit)", logger: logger
            )
        }
        return try await rows.all().map(Self.task)
    }

    public func customerHasTask(customer: String, jobId: Int) async throws -> Bool {
        !(try await database.query(
            "SELECT 1 FROM export_tasks WHERE customer = \(customer) AND job_id = \(jobId) AND NOT detached AND status <> 'ABORTED' LIMIT 1", logger: logger
        ).all()).isEmpty
    }

    public func transitions(id: Int) async throws -> [TaskTransition] {
        try await database.query("SELECT * FROM export_task_transitions WHERE task_id = \(id) ORDER BY id", logger: logger).all().map { row in
            TaskTransition(
                from: try row.optionalString("from_status").flatMap(TaskStatus.init(rawValue:)),
                to: TaskStatus(rawValue: try row.string("to_status")) ?? .pending,
                at: try row.date("at") ?? Date(timeIntervalSince1970: 0), reason: try row.optionalString("reason")
            )
        }
    }

    // MARK: Worker

    public func claimNextJob(now: Date, lease: JobLease, render: @escaping WebhookRenderer) async throws -> ExportJob? {
        let budget = retryBudget
        let logger = self.logger
        return try await transaction { connection in
            guard
                let row = try await connection.query(
                    "SELECT id FROM export_jobs WHERE status = 'PENDING' ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1", logger: logger
                ).all().first
            else { return nil }
            let id = try row.int("id")
            try await Self.transition(connection, jobId: id, to: .inProgress, reason: nil, artifacts: nil, expiresAt: nil, now: now, budget: budget, render: render, logger: logger)
            try await connection.query(
                "UPDATE export_jobs SET lease_owner = \(lease.owner), lease_expires_at = \(Timestamp.string(lease.until)) WHERE id = \(id)", logger: logger
            )
            return try await connection.query("SELECT * FROM export_jobs WHERE id = \(id)", logger: logger).all().first.map(Self.job)
        }
    }

    public func renewLease(jobId: Int, lease: JobLease) async throws -> Bool {
        !(try await database.query(
            """
            UPDATE export_jobs SET lease_expires_at = \(Timestamp.string(lease.until))
            WHERE id = \(jobId) AND lease_owner = \(lease.owner) AND status = 'IN_PROGRESS' RETURNING id
            """, logger: logger
        ).all()).isEmpty
    }

    public func finishJob(
        jobId: Int, lease: JobLease, to status: TaskStatus, reason: String?, artifacts: [Artifact]?, expiresAt: Date?, now: Date,
        render: @escaping WebhookRenderer
    ) async throws -> Bool {
        let budget = retryBudget
        let logger = self.logger
        return try await transaction { connection in
            guard
                !(try await connection.query(
                    "SELECT 1 FROM export_jobs WHERE id = \(jobId) AND status = 'IN_PROGRESS' AND lease_owner = \(lease.owner) FOR UPDATE", logger: logger
                ).all()).isEmpty
            else { return false }
            try await Self.transition(
                connection, jobId: jobId, to: status, reason: reason, artifacts: artifacts, expiresAt: expiresAt, now: now, budget: budget,
                render: render, logger: logger
            )
            return true
        }
    }

    public func requeueExpiredLeases(now: Date) async throws -> [Int] {
        let stamp = Timestamp.string(now)
        let logger = self.logger
        return try await transaction { connection in
            let ids = try await connection.query(
                """
                SELECT id FROM export_jobs WHERE status = 'IN_PROGRESS' AND (lease_expires_at IS NULL OR lease_expires_at < \(stamp))
                ORDER BY id FOR UPDATE SKIP LOCKED
                """, logger: logger
            ).all().map { try $0.int("id") }
            try await Self.requeue(connection, ids: ids, now: stamp, logger: logger)
            return ids
        }
    }

    public func job(id: Int) async throws -> ExportJob? {
        try await database.query("SELECT * FROM export_jobs WHERE id = \(id)", logger: logger).all().first.map(Self.job)
    }

    public func recordProgress(
        jobId: Int, lease: JobLease, progress: Int, batchesDone: Int, tilesDone: Int, estimatedTime: Int64, event: WebhookEvent?, now: Date,
        render: @escaping WebhookRenderer
    ) async throws -> ExportJob? {
        let stamp = Timestamp.string(now)
        let budget = retryBudget
        let logger = self.logger
        return try await transaction { connection in
            let owned = try await connection.query(
                """
                UPDATE export_jobs SET progress = \(progress), batches_done = \(batchesDone), tiles_done = \(tilesDone),
                  estimated_time = \(estimatedTime), updated_at = \(stamp), lease_expires_at = \(Timestamp.string(lease.until))
                WHERE id = \(jobId) AND status = 'IN_PROGRESS' AND lease_owner = \(lease.owner) RETURNING id
                """, logger: logger
            ).all()
            guard !owned.isEmpty else { return nil }
            try await connection.query(
                """
                UPDATE export_tasks SET progress = \(progress), estimated_time = \(estimatedTime), updated_at = \(stamp)
                WHERE job_id = \(jobId) AND NOT detached AND status = 'IN_PROGRESS'
                """, logger: logger
            )
            if let event {
                for task in try await connection.query("SELECT * FROM export_tasks WHERE job_id = \(jobId) AND NOT detached", logger: logger).all().map(Self.task) {
                    try await Self.enqueue(connection, task: task, event: event, only: nil, now: now, budget: budget, render: render, logger: logger)
                }
            }
            return try await connection.query("SELECT * FROM export_jobs WHERE id = \(jobId)", logger: logger).all().first.map(Self.job)
        }
    }

    public func transitionJob(
        jobId: Int, to status: TaskStatus, reason: String?, artifacts: [Artifact]?, expiresAt: Date?, now: Date, render: @escaping WebhookRenderer
    ) async throws {
        let budget = retryBudget
        let logger = self.logger
        try await transaction { connection in
            try await Self.transition(
                connection, jobId: jobId, to: status, reason: reason, artifacts: artifacts, expiresAt: expiresAt, now: now, budget: budget,
                render: render, logger: logger
            )
        }
    }

    /// The job's new state, copied to its attached tasks with their transitions and events.
    private static func transition(
        _ connection: PostgresConnection, jobId: Int, to status: TaskStatus, reason: String?, artifacts: [Artifact]?, expiresAt: Date?,
        now: Date, budget: TimeInterval, render: @escaping WebhookRenderer, logger: Logger
    ) async throws {
        // Locks the job row; a finished job moved again to the same status (two sweepers) changes nothing.
        let current = try await connection.query("SELECT status FROM export_jobs WHERE id = \(jobId) FOR UPDATE", logger: logger).all().first
        if status.isFinished, try current?.string("status") == status.rawValue { return }
        let stamp = Timestamp.string(now)
        let finished = status.isFinished
        let clearAbort = status != .inProgress && status != .pending
        try await connection.query(
            """
            UPDATE export_jobs SET status = \(status.rawValue), updated_at = \(stamp), pause_requested = false,
              lease_owner = CASE WHEN \(status == .inProgress) THEN lease_owner ELSE NULL END,
              lease_expires_at = CASE WHEN \(status == .inProgress) THEN lease_expires_at ELSE NULL END,
              abort_requested = CASE WHEN \(clearAbort) THEN false ELSE abort_requested END,
              finished_at = CASE WHEN \(finished) THEN coalesce(finished_at, \(stamp)) ELSE finished_at END,
              error_reason = coalesce(\(reason), error_reason),
              artifacts = coalesce(\(artifacts.map(Artifact.storedText)), artifacts),
              expired_at = coalesce(\(expiresAt.map(Timestamp.string)), expired_at),
              progress = CASE WHEN \(status == .completed) THEN 100 ELSE progress END
            WHERE id = \(jobId)
            """, logger: logger
        )
        guard let job = try await connection.query("SELECT * FROM export_jobs WHERE id = \(jobId)", logger: logger).all().first else { return }
        let tasks = try await connection.query("SELECT * FROM export_tasks WHERE job_id = \(jobId) AND NOT detached", logger: logger).all().map(task)
        for old in tasks {
            let estimated = status == .completed ? 0 : try job.int("estimated_time")
            try await connection.query(
                """
                UPDATE export_tasks SET status = \(status.rawValue), progress = \(try job.int("progress")), artifacts = \(try job.string("artifacts")),
                  error_reason = \(try job.optionalString("error_reason")), expired_at = \(try job.optionalString("expired_at")),
                  estimated_time = \(estimated),
                  finished_at = CASE WHEN \(finished) THEN coalesce(finished_at, \(stamp)) ELSE finished_at END, updated_at = \(stamp)
                WHERE id = \(old.id)
                """, logger: logger
            )
            if old.status != status {
                try await recordTransition(connection, id: old.id, from: old.status, to: status, at: stamp, reason: reason, logger: logger)
            }
            if let event = status.webhookEvent {
                try await enqueue(connection, task: try await fetchTask(connection, id: old.id, logger: logger), event: event, only: nil, now: now, budget: budget, render: render, logger: logger)
            }
        }
    }

    public func transitionTask(id: Int, to status: TaskStatus, reason: String?, now: Date, render: @escaping WebhookRenderer) async throws {
        let stamp = Timestamp.string(now)
        let budget = retryBudget
        let logger = self.logger
        try await transaction { connection in
            let old = try await Self.fetchTask(connection, id: id, logger: logger)
            guard old.status != status else { return }
            try await connection.query(
                """
                UPDATE export_tasks SET status = \(status.rawValue), detached = true, updated_at = \(stamp),
                  finished_at = coalesce(finished_at, \(stamp)) WHERE id = \(id)
                """, logger: logger
            )
            try await Self.recordTransition(connection, id: id, from: old.status, to: status, at: stamp, reason: reason, logger: logger)
            if let event = status.webhookEvent {
                try await Self.enqueue(connection, task: try await Self.fetchTask(connection, id: id, logger: logger), event: event, only: nil, now: now, budget: budget, render: render, logger: logger)
            }
        }
    }

    public func requestStop(jobId: Int, pause: Bool, abort: Bool) async throws {
        try await database.query(
            """
            UPDATE export_jobs SET pause_requested = pause_requested OR \(pause), abort_requested = abort_requested OR \(abort) WHERE id = \(jobId)
            """, logger: logger
        )
    }

    public func attachedTasks(jobId: Int) async throws -> [ExportTask] {
        try await database.query("SELECT * FROM export_tasks WHERE job_id = \(jobId) AND NOT detached", logger: logger).all().map(Self.task)
    }

    /// Every IN_PROGRESS job back to PENDING. Only for a single process (the worker does not call it when the
    /// state is shared: there, ``requeueExpiredLeases(now:)`` takes over the jobs of nodes that stopped).
    public func requeueInProgress(now: Date) async throws -> [Int] {
        let stamp = Timestamp.string(now)
        let logger = self.logger
        return try await transaction { connection in
            let ids = try await connection.query("SELECT id FROM export_jobs WHERE status = 'IN_PROGRESS' ORDER BY id FOR UPDATE", logger: logger).all().map { try $0.int("id") }
            try await Self.requeue(connection, ids: ids, now: stamp, logger: logger)
            return ids
        }
    }

    private static func requeue(_ connection: PostgresConnection, ids: [Int], now stamp: String, logger: Logger) async throws {
        for id in ids {
            try await connection.query(
                "UPDATE export_jobs SET status = 'PENDING', lease_owner = NULL, lease_expires_at = NULL, updated_at = \(stamp) WHERE id = \(id)",
                logger: logger
            )
            for task in try await connection.query("SELECT id FROM export_tasks WHERE job_id = \(id) AND NOT detached", logger: logger).all() {
                let taskId = try task.int("id")
                try await connection.query("UPDATE export_tasks SET status = 'PENDING', updated_at = \(stamp) WHERE id = \(taskId)", logger: logger)
                try await recordTransition(connection, id: taskId, from: .inProgress, to: .pending, at: stamp, reason: "the node running the export stopped; it resumes", logger: logger)
            }
        }
    }

    // MARK: Sweeper

    public func expiredJobs(now: Date) async throws -> [ExportJob] {
        try await database.query(
            "SELECT * FROM export_jobs WHERE status = 'COMPLETED' AND expired_at <= \(Timestamp.string(now)) ORDER BY id", logger: logger
        ).all().map(Self.job)
    }

    public func finishedTasks(before date: Date) async throws -> [ExportTask] {
        try await database.query(
            """
            SELECT * FROM export_tasks WHERE status IN ('COMPLETED', 'FAILED', 'ABORTED', 'EXPIRED') AND finished_at < \(Timestamp.string(date)) ORDER BY id
            """, logger: logger
        ).all().map(Self.task)
    }

    // MARK: Outbox

    private static func enqueue(
        _ connection: PostgresConnection, task: ExportTask, event: WebhookEvent, only: [Webhook]?, now: Date, budget: TimeInterval,
        render: @escaping WebhookRenderer, logger: Logger
    ) async throws {
        let targets = (only ?? task.webhooks).filter { $0.events.contains(event) }
        guard !targets.isEmpty else { return }
        let body = render(task, event, now)
        let stamp = Timestamp.string(now)
        let expires = Timestamp.string(now.addingTimeInterval(budget))
        for webhook in targets {
            let secret = task.webhooks.first { $0.url == webhook.url }?.secret ?? webhook.secret
            try await connection.query(
                """
                INSERT INTO webhook_deliveries (id, task_id, event, url, secret, body, state, next_attempt_at, created_at, expires_at)
                VALUES (\(UUID().uuidString.lowercased()), \(task.id), \(event.rawValue), \(webhook.url), \(secret), \(body), 'PENDING',
                  \(stamp), \(stamp), \(expires))
                """, logger: logger
            )
        }
    }

    public func claimDueDeliveries(now: Date, until: Date, limit: Int) async throws -> [WebhookDelivery] {
        let logger = self.logger
        return try await transaction { connection in
            let due = try await connection.query(
                """
                SELECT * FROM webhook_deliveries WHERE state = 'PENDING' AND next_attempt_at <= \(Timestamp.string(now))
                ORDER BY next_attempt_at, seq LIMIT \(limit) FOR UPDATE SKIP LOCKED
                """, logger: logger
            ).all().map(Self.delivery)
            for delivery in due {
                try await connection.query(
                    "UPDATE webhook_deliveries SET next_attempt_at = \(Timestamp.string(until)) WHERE id = \(delivery.id.uuidString.lowercased())",
                    logger: logger
                )
            }
            return due
        }
    }

    public func recordAttempt(_ delivery: WebhookDelivery) async throws {
        try await database.query(
            """
            UPDATE webhook_deliveries SET state = \(delivery.state.rawValue), attempts = \(delivery.attempts),
              next_attempt_at = \(Timestamp.string(delivery.nextAttemptAt)), last_attempt_at = \(delivery.lastAttemptAt.map(Timestamp.string)),
              last_status_code = \(delivery.lastStatusCode), last_error = \(delivery.lastError),
              delivered_at = \(delivery.deliveredAt.map(Timestamp.string)) WHERE id = \(delivery.id.uuidString.lowercased())
            """, logger: logger
        )
    }

    public func deliveries(taskId: Int) async throws -> [WebhookDelivery] {
        try await database.query("SELECT * FROM webhook_deliveries WHERE task_id = \(taskId) ORDER BY created_at, seq", logger: logger).all()
            .map(Self.delivery)
    }

    // MARK: Rows

    private static func recordTransition(
        _ connection: PostgresConnection, id: Int, from: TaskStatus?, to: TaskStatus, at: String, reason: String?, logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO export_task_transitions (task_id, from_status, to_status, at, reason)
            VALUES (\(id), \(from?.rawValue), \(to.rawValue), \(at), \(reason))
            """, logger: logger
        )
    }

    private static func fetchTask(_ connection: PostgresConnection, id: Int, logger: Logger) async throws -> ExportTask {
        guard let row = try await connection.query("SELECT * FROM export_tasks WHERE id = \(id)", logger: logger).all().first else {
            throw ServiceError.notFound("task id: \(id) is not found")
        }
        return try task(row)
    }

    static func job(_ row: PostgresRandomAccessRow) throws -> ExportJob {
        ExportJob(
            id: try row.int("id"), dedupKey: try row.string("dedup_key"),
            catalogRecordID: UUID(uuidString: try row.string("catalog_record_id")) ?? UUID(),
            roi: try CanonicalJSON.parse(try row.string("roi")), status: TaskStatus(rawValue: try row.string("status")) ?? .pending,
            progress: try row.int("progress"), batchesDone: try row.int("batches_done"), tilesDone: try row.int("tiles_done"),
            estimatedTiles: try row.int("estimated_tiles"), estimatedSize: Int64(try row.int("estimated_size")),
            artifacts: try Artifact.list(stored: try row.string("artifacts")), createdAt: try row.date("created_at") ?? Date(timeIntervalSince1970: 0),
            expiredAt: try row.date("expired_at"), pauseRequested: try row.bool("pause_requested"), abortRequested: try row.bool("abort_requested")
        )
    }

    static func task(_ row: PostgresRandomAccessRow) throws -> ExportTask {
        func json(_ column: String) throws -> JSONValue? { try row.optionalString(column).map(CanonicalJSON.parse) }
        return ExportTask(
            id: try row.int("id"), jobId: try row.int("job_id"), usesSingularWebhook: try row.bool("singular_webhook"),
            customer: try row.string("customer"), catalogRecordID: UUID(uuidString: try row.string("catalog_record_id")) ?? UUID(),
            domain: ProductDomain(rawValue: try row.string("domain")) ?? .raster, roi: try json("roi") ?? .null,
            artifactCRS: try row.string("artifact_crs"), description: try row.optionalString("description"), keywords: try json("keywords"),
            parameters: try json("parameters"), webhooks: try Webhook.list(stored: try row.string("webhooks")),
            estimatedSize: Int64(try row.int("estimated_size")), estimatedTime: Int64(try row.int("estimated_time")),
            estimatedTiles: try row.int("estimated_tiles"), status: TaskStatus(rawValue: try row.string("status")) ?? .pending,
            errorReason: try row.optionalString("error_reason"), progress: try row.int("progress"),
            artifacts: try Artifact.list(stored: try row.string("artifacts")), createdAt: try row.date("created_at") ?? Date(timeIntervalSince1970: 0),
            updatedAt: try row.date("updated_at") ?? Date(timeIntervalSince1970: 0), expiredAt: try row.date("expired_at"),
            finishedAt: try row.date("finished_at")
        )
    }

    static func delivery(_ row: PostgresRandomAccessRow) throws -> WebhookDelivery {
        WebhookDelivery(
            id: UUID(uuidString: try row.string("id")) ?? UUID(), taskId: try row.int("task_id"),
            event: WebhookEvent(rawValue: try row.string("event")) ?? .taskCompleted, url: try row.string("url"), secret: try row.optionalString("secret"),
            body: try row.string("body"), state: WebhookDelivery.State(rawValue: try row.string("state")) ?? .pending, attempts: try row.int("attempts"),
            nextAttemptAt: try row.date("next_attempt_at") ?? Date(), lastAttemptAt: try row.date("last_attempt_at"),
            lastStatusCode: try row.optionalInt("last_status_code"), lastError: try row.optionalString("last_error"),
            createdAt: try row.date("created_at") ?? Date(), expiresAt: try row.date("expires_at") ?? Date(), deliveredAt: try row.date("delivered_at")
        )
    }
}
