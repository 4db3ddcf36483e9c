import ExportCore
import Foundation
import JSONValues
import MapDepotCore
import Testing

/// The export tables' rows without a database (issue #10): what a store writes (``ExportTask/insertColumns``) reads
/// back as the same value, and a value none of our writers produce throws ``CorruptRow`` instead of becoming another
/// valid one (the old decoders turned a bad status into PENDING and a bad id into a fresh UUID).
@Suite struct ExportRowTests {
    /// A row as a database would hand it back: the columns written, by name.
    struct Row: StoredRow {
        var table: String
        var values: [String: StoredValue]

        init(table: String, _ columns: [(String, StoredValue)]) {
            self.table = table
            values = Dictionary(columns, uniquingKeysWith: { _, last in last })
        }

        func optionalString(_ column: String) throws -> String? {
            switch values[column] ?? .null {
            case .null: return nil
            case .text(let text): return text
            case let other: throw CorruptRow(table: table, column: column, value: "\(other)")
            }
        }

        func optionalInt(_ column: String) throws -> Int? {
            switch values[column] ?? .null {
            case .null: return nil
            case .integer(let number): return number
            case let other: throw CorruptRow(table: table, column: column, value: "\(other)")
            }
        }

        func bool(_ column: String) throws -> Bool {
            guard case .boolean(let flag)? = values[column] else { throw CorruptRow(table: table, column: column, value: "\(values[column] ?? .null)") }
            return flag
        }
    }

    static var task: ExportTask {
        var task = ExportRulesTests.task(.completed)
        task.artifacts = [Artifact(type: .gpkg, name: "a.gpkg", size: 5, key: "exports/7/a.gpkg", sha256: "ab")]
        task.keywords = .array([.string("k")])
        task.expiredAt = ExportRulesTests.now.addingTimeInterval(60)
        task.isDetached = true
        return task
    }

    @Test func whatIsWrittenReadsBack() throws {
        let task = Self.task
        #expect(try ExportTask(row: Row(table: "export_tasks", [("id", .integer(task.id))] + task.insertColumns)) == task)
        let job = ExportRulesTests.job(.inProgress, lease: JobLease(owner: "n1", until: ExportRulesTests.now))
        #expect(try ExportJob(row: Row(table: "export_jobs", [("id", .integer(job.id))] + job.insertColumns)) == job)
        let transition = TaskTransition(taskId: 3, from: nil, to: .pending, at: ExportRulesTests.now, reason: "r")
        #expect(try TaskTransition(row: Row(table: "export_task_transitions", transition.insertColumns)) == transition)
        var changes = ExportChanges()
        changes.events = [TaskEvent(task: task, event: .taskCompleted, at: ExportRulesTests.now, targets: [ExportRulesTests.hook])]
        let delivery = try #require(changes.deliveries(retryBudget: 60).first)
        #expect(try WebhookDelivery(row: Row(table: "webhook_deliveries", delivery.insertColumns)) == delivery)
    }

    static let corruptions: [(String, StoredValue)] = [
        ("status", .text("DONE")), ("catalog_record_id", .text("not-a-uuid")), ("created_at", .text("yesterday")), ("roi", .text("{")),
        ("domain", .text("VECTOR")), ("webhooks", .text(#"[{"url":"https://x.org","events":["TASK_EXPLODED"]}]"#)),
        ("artifacts", .text(#"[{"name":"a.gpkg"}]"#)), ("expired_at", .text("soon")), ("customer", .null), ("progress", .text("half")),
    ]

    @Test(arguments: corruptions) func aValueNoWriterProducesIsACorruptRow(column: String, value: StoredValue) {
        let task = Self.task
        let row = Row(table: "export_tasks", [("id", .integer(task.id))] + task.insertColumns + [(column, value)])
        #expect(throws: CorruptRow.self) { try ExportTask(row: row) }
    }
}
