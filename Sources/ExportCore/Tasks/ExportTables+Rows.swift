import Foundation
import GeoJSON
import MapDepotCore

// The export tables' rows, read and written the same way by every backend (issue #10): the column names and values are
// stated once here; a store only binds them. A row no writer of ours produces throws ``CorruptRow`` (a 500 with a log
// line) instead of decoding into another valid value.

extension ExportJob {
    public init(row: some StoredRow) throws {
        let owner = try row.optionalString("lease_owner")
        self.init(
            id: try row.int("id"), dedupKey: try row.string("dedup_key"), catalogRecordID: try row.uuid("catalog_record_id"),
            roi: try row.json("roi"), status: try row.value("status"), progress: try row.int("progress"), batchesDone: try row.int("batches_done"),
            tilesDone: try row.int("tiles_done"), estimatedTiles: try row.int("estimated_tiles"), estimatedSize: try row.int64("estimated_size"),
            estimatedTime: try row.int64("estimated_time"), artifacts: try Artifact.list(stored: try row.string("artifacts")),
            errorReason: try row.optionalString("error_reason"), createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"),
            expiredAt: try row.optionalDate("expired_at"), finishedAt: try row.optionalDate("finished_at"),
            pauseRequested: try row.bool("pause_requested"), abortRequested: try row.bool("abort_requested"),
            lease: try owner.map { JobLease(owner: $0, until: try row.optionalDate("lease_expires_at") ?? .distantPast) },
            options: try row.optionalJSON("options")
        )
    }

    /// The columns set when the job is queued.
    public var insertColumns: [(String, StoredValue)] {
        [
            ("dedup_key", .text(dedupKey)), ("catalog_record_id", .text(catalogRecordID.uuidString.lowercased())), ("roi", .json(roi)),
            ("estimated_tiles", .integer(estimatedTiles)), ("estimated_size", .integer(estimatedSize)), ("created_at", .date(createdAt)),
            ("options", .json(options)),
        ] + stateColumns
    }

    /// The columns its changes write.
    public var stateColumns: [(String, StoredValue)] {
        [
            ("status", .text(status.rawValue)), ("progress", .integer(progress)), ("batches_done", .integer(batchesDone)),
            ("tiles_done", .integer(tilesDone)), ("estimated_time", .integer(estimatedTime)), ("artifacts", .text(Artifact.storedText(artifacts))),
            ("error_reason", .text(errorReason)), ("updated_at", .date(updatedAt)), ("expired_at", .date(expiredAt)),
            ("finished_at", .date(finishedAt)), ("pause_requested", .boolean(pauseRequested)), ("abort_requested", .boolean(abortRequested)),
            ("lease_owner", .text(lease?.owner)), ("lease_expires_at", .date(lease?.until)),
        ]
    }
}

extension ExportTask {
    /// The columns ``init(row:)`` reads.
    public static let columns = """
        id, job_id, singular_webhook, customer, catalog_record_id, domain, roi, artifact_crs, description, keywords, parameters, \
        webhooks, estimated_size, estimated_time, estimated_tiles, status, error_reason, progress, artifacts, created_at, updated_at, \
        expired_at, finished_at, detached
        """

    public init(row: some StoredRow) throws {
        self.init(
            id: try row.int("id"), jobId: try row.int("job_id"), usesSingularWebhook: try row.bool("singular_webhook"),
            customer: try row.string("customer"), catalogRecordID: try row.uuid("catalog_record_id"), domain: try row.value("domain"),
            roi: try row.json("roi"), artifactCRS: try row.string("artifact_crs"), description: try row.optionalString("description"),
            keywords: try row.optionalJSON("keywords"), parameters: try row.optionalJSON("parameters"),
            webhooks: try Webhook.list(stored: try row.string("webhooks")), estimatedSize: try row.int64("estimated_size"),
            estimatedTime: try row.int64("estimated_time"), estimatedTiles: try row.int("estimated_tiles"), status: try row.value("status"),
            errorReason: try row.optionalString("error_reason"), progress: try row.int("progress"),
            artifacts: try Artifact.list(stored: try row.string("artifacts")), createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"), expiredAt: try row.optionalDate("expired_at"), finishedAt: try row.optionalDate("finished_at"),
            isDetached: try row.bool("detached")
        )
    }

    /// The columns set when the task is stored.
    public var insertColumns: [(String, StoredValue)] {
        [
            ("job_id", .integer(jobId)), ("singular_webhook", .boolean(usesSingularWebhook)), ("customer", .text(customer)),
            ("catalog_record_id", .text(catalogRecordID.uuidString.lowercased())), ("domain", .text(domain.rawValue)), ("roi", .json(roi)),
            ("artifact_crs", .text(artifactCRS)), ("description", .text(description)), ("keywords", .json(keywords)),
            ("parameters", .json(parameters)), ("estimated_size", .integer(estimatedSize)), ("estimated_tiles", .integer(estimatedTiles)),
            ("created_at", .date(createdAt)),
        ] + stateColumns
    }

    /// The columns its changes write.
    public var stateColumns: [(String, StoredValue)] {
        [
            ("status", .text(status.rawValue)), ("progress", .integer(progress)), ("estimated_time", .integer(estimatedTime)),
            ("artifacts", .text(Artifact.storedText(artifacts))), ("error_reason", .text(errorReason)), ("webhooks", .text(Webhook.storedText(webhooks))),
            ("updated_at", .date(updatedAt)), ("expired_at", .date(expiredAt)), ("finished_at", .date(finishedAt)), ("detached", .boolean(isDetached)),
        ]
    }
}

extension TaskTransition {
    public init(row: some StoredRow) throws {
        let from = try row.optionalString("from_status")
        self.init(
            taskId: try row.int("task_id"), from: from == nil ? nil : try row.value("from_status"), to: try row.value("to_status"),
            at: try row.date("at"), reason: try row.optionalString("reason")
        )
    }

    public var insertColumns: [(String, StoredValue)] {
        [("task_id", .integer(taskId)), ("from_status", .text(from?.rawValue)), ("to_status", .text(to.rawValue)), ("at", .date(at)), ("reason", .text(reason))]
    }
}

extension WebhookDelivery {
    public init(row: some StoredRow) throws {
        self.init(
            id: try row.uuid("id"), taskId: try row.int("task_id"), event: try row.value("event"), url: try row.string("url"),
            secret: try row.optionalString("secret"), body: try row.string("body"), state: try row.value("state"), attempts: try row.int("attempts"),
            nextAttemptAt: try row.date("next_attempt_at"), lastAttemptAt: try row.optionalDate("last_attempt_at"),
            lastStatusCode: try row.optionalInt("last_status_code"), lastError: try row.optionalString("last_error"),
            createdAt: try row.date("created_at"), expiresAt: try row.date("expires_at"), deliveredAt: try row.optionalDate("delivered_at")
        )
    }

    public var insertColumns: [(String, StoredValue)] {
        [
            ("id", .text(id.uuidString.lowercased())), ("task_id", .integer(taskId)), ("event", .text(event.rawValue)), ("url", .text(url)),
            ("secret", .text(secret)), ("body", .text(body)), ("created_at", .date(createdAt)), ("expires_at", .date(expiresAt)),
        ] + attemptColumns
    }

    /// The columns an attempt writes.
    public var attemptColumns: [(String, StoredValue)] {
        [
            ("state", .text(state.rawValue)), ("attempts", .integer(attempts)), ("next_attempt_at", .date(nextAttemptAt)),
            ("last_attempt_at", .date(lastAttemptAt)), ("last_status_code", .integer(lastStatusCode)), ("last_error", .text(lastError)),
            ("delivered_at", .date(deliveredAt)),
        ]
    }
}
