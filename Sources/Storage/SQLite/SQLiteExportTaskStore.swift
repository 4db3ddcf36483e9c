import ExportCore
import MapDepotCore
import Foundation
import GRDB
import GeoJSON

/// Export tasks in SQLite. Status changes and their transition rows are written in one transaction;
/// claiming is a single write transaction, which SQLite serialises, so two workers never get one task.
public struct SQLiteExportTaskStore: ExportTaskStore {
    private let database: SQLiteDatabase

    public init(database: SQLiteDatabase) {
        self.database = database
    }

    public func insert(_ task: NewExportTask) async throws -> ExportTask {
        let request = task.request
        let now = Timestamp.string(task.createdAt)
        let id = try await database.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO export_tasks (customer, catalog_record_id, domain, roi, artifact_crs, description, keywords,
                      parameters, webhooks, estimated_size, estimated_time, estimated_tiles, status, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'PENDING', ?, ?)
                    """,
                arguments: [
                    task.customer, request.catalogRecordID.uuidString.lowercased(), request.domain.rawValue,
                    JSONText.encode(request.roiJSON), request.artifactCRS, request.description,
                    request.keywords.map(JSONText.encode), request.parameters.map(JSONText.encode),
                    JSONText.encode(.array(request.webhooks.map(\.json))), task.estimate.bytes, task.estimate.seconds,
                    task.estimate.tiles, now, now,
                ]
            )
            let id = db.lastInsertedRowID
            try Self.recordTransition(db, id: id, from: nil, to: .pending, at: now, reason: nil)
            return id
        }
        guard let stored = try await self.task(id: Int(id), customer: nil) else {
            throw ServiceError(.notFound, "task \(id) vanished after insert")
        }
        return stored
    }

    public func task(id: Int, customer: String?) async throws -> ExportTask? {
        let row = try await database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM export_tasks WHERE id = ?", arguments: [id])
        }
        guard let row else { return nil }
        let task = try Self.task(row)
        if let customer, task.customer != customer { return nil }
        return task
    }

    public func tasks(customer: String, limit: Int) async throws -> [ExportTask] {
        let rows = try await database.pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM export_tasks WHERE customer = ? ORDER BY id DESC LIMIT ?",
                arguments: [customer, limit]
            )
        }
        return try rows.map(Self.task)
    }

    public func claimNext(now: Date) async throws -> ExportTask? {
        let stamp = Timestamp.string(now)
        let row = try await database.pool.write { db -> Row? in
            guard
                let id = try Int64.fetchOne(
                    db, sql: "SELECT id FROM export_tasks WHERE status = 'PENDING' ORDER BY id LIMIT 1"
                )
            else { return nil }
            try db.execute(
                sql: "UPDATE export_tasks SET status = 'IN_PROGRESS', progress = 0, updated_at = ? WHERE id = ?",
                arguments: [stamp, id]
            )
            try Self.recordTransition(db, id: id, from: .pending, to: .inProgress, at: stamp, reason: nil)
            return try Row.fetchOne(db, sql: "SELECT * FROM export_tasks WHERE id = ?", arguments: [id])
        }
        return try row.map(Self.task)
    }

    public func updateProgress(id: Int, progress: Int, now: Date) async throws {
        try await database.pool.write { db in
            try db.execute(
                sql: "UPDATE export_tasks SET progress = ?, updated_at = ? WHERE id = ? AND status = 'IN_PROGRESS'",
                arguments: [progress, Timestamp.string(now), id]
            )
        }
    }

    public func complete(id: Int, artifacts: [Artifact], now: Date, expiresAt: Date) async throws {
        let stamp = Timestamp.string(now)
        let json = JSONText.encode(.array(artifacts.map(Self.json)))
        try await database.pool.write { db in
            try db.execute(
                sql: """
                    UPDATE export_tasks SET status = 'COMPLETED', progress = 100, artifacts = ?, updated_at = ?,
                      finished_at = ?, expired_at = ? WHERE id = ?
                    """,
                arguments: [json, stamp, stamp, Timestamp.string(expiresAt), id]
            )
            try Self.recordTransition(db, id: Int64(id), from: .inProgress, to: .completed, at: stamp, reason: nil)
        }
    }

    public func fail(id: Int, reason: String, now: Date) async throws {
        let stamp = Timestamp.string(now)
        try await database.pool.write { db in
            try db.execute(
                sql: "UPDATE export_tasks SET status = 'FAILED', error_reason = ?, updated_at = ?, finished_at = ? WHERE id = ?",
                arguments: [reason, stamp, stamp, id]
            )
            try Self.recordTransition(db, id: Int64(id), from: .inProgress, to: .failed, at: stamp, reason: reason)
        }
    }

    public func requeueInProgress(now: Date) async throws -> [Int] {
        let stamp = Timestamp.string(now)
        return try await database.pool.write { db in
            let ids = try Int64.fetchAll(db, sql: "SELECT id FROM export_tasks WHERE status = 'IN_PROGRESS' ORDER BY id")
            for id in ids {
                try db.execute(
                    sql: "UPDATE export_tasks SET status = 'PENDING', progress = 0, updated_at = ? WHERE id = ?",
                    arguments: [stamp, id]
                )
                try Self.recordTransition(
                    db, id: id, from: .inProgress, to: .pending, at: stamp, reason: "process stopped while the task ran; restarted"
                )
            }
            return ids.map(Int.init)
        }
    }

    public func transitions(id: Int) async throws -> [TaskTransition] {
        try await database.pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM export_task_transitions WHERE task_id = ? ORDER BY rowid", arguments: [id]
            ).map { row in
                let from: String? = row["from_status"]
                return TaskTransition(
                    from: from.flatMap(TaskStatus.init(rawValue:)),
                    to: TaskStatus(rawValue: row["to_status"]) ?? .pending,
                    at: Timestamp.parse(row["at"]) ?? Date(timeIntervalSince1970: 0),
                    reason: row["reason"]
                )
            }
        }
    }

    private static func recordTransition(
        _ db: Database, id: Int64, from: TaskStatus?, to: TaskStatus, at: String, reason: String?
    ) throws {
        try db.execute(
            sql: "INSERT INTO export_task_transitions (task_id, from_status, to_status, at, reason) VALUES (?, ?, ?, ?, ?)",
            arguments: [id, from?.rawValue, to.rawValue, at, reason]
        )
    }

    static func json(_ artifact: Artifact) -> JSONValue {
        .object([
            "type": .string(artifact.type.rawValue), "name": .string(artifact.name),
            "size": .number(Double(artifact.size)), "key": .string(artifact.key), "sha256": .string(artifact.sha256),
        ])
    }

    static func task(_ row: Row) throws -> ExportTask {
        func json(_ column: String) throws -> JSONValue? {
            let text: String? = row[column]
            return try text.map(JSONText.decode)
        }
        let webhooks = (try json("webhooks")?.arrayValue ?? []).compactMap { value -> Webhook? in
            guard let object = value.objectValue, let url = object["url"]?.stringValue else { return nil }
            let events = (object["events"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(WebhookEvent.init(rawValue:)) }
            return Webhook(url: url, events: events)
        }
        let artifacts = (try json("artifacts")?.arrayValue ?? []).compactMap { value -> Artifact? in
            guard let object = value.objectValue, let type = object["type"]?.stringValue.flatMap(ArtifactType.init(rawValue:)),
                let name = object["name"]?.stringValue, let size = object["size"]?.numberValue,
                let key = object["key"]?.stringValue, let sha256 = object["sha256"]?.stringValue
            else { return nil }
            return Artifact(type: type, name: name, size: Int64(size), key: key, sha256: sha256)
        }
        func date(_ column: String) -> Date? {
            let text: String? = row[column]
            return text.flatMap(Timestamp.parse)
        }
        let recordID: String = row["catalog_record_id"]
        return ExportTask(
            id: row["id"],
            customer: row["customer"],
            catalogRecordID: UUID(uuidString: recordID) ?? UUID(),
            domain: ProductDomain(rawValue: row["domain"]) ?? .raster,
            roi: try json("roi") ?? .null,
            artifactCRS: row["artifact_crs"],
            description: row["description"],
            keywords: try json("keywords"),
            parameters: try json("parameters"),
            webhooks: webhooks,
            estimatedSize: row["estimated_size"],
            estimatedTime: row["estimated_time"],
            estimatedTiles: row["estimated_tiles"],
            status: TaskStatus(rawValue: row["status"]) ?? .pending,
            errorReason: row["error_reason"],
            progress: row["progress"],
            artifacts: artifacts,
            createdAt: date("created_at") ?? Date(timeIntervalSince1970: 0),
            updatedAt: date("updated_at") ?? Date(timeIntervalSince1970: 0),
            expiredAt: date("expired_at"),
            finishedAt: date("finished_at")
        )
    }
}
