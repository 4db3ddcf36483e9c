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

/// Export tasks and their recorded status transitions.
///
/// Every change of status goes through the store, which records it with its time (SPEC "Every transition is
/// recorded"). Claiming is atomic, so several workers never take the same task.
public protocol ExportTaskStore: Sendable {
    func insert(_ task: NewExportTask) async throws -> ExportTask
    /// The task if it exists and, when `customer` is given, belongs to it.
    func task(id: Int, customer: String?) async throws -> ExportTask?
    /// The customer's newest tasks first.
    func tasks(customer: String, limit: Int) async throws -> [ExportTask]
    /// Moves the oldest PENDING task to IN_PROGRESS and returns it.
    func claimNext(now: Date) async throws -> ExportTask?
    func updateProgress(id: Int, progress: Int, now: Date) async throws
    func complete(id: Int, artifacts: [Artifact], now: Date, expiresAt: Date) async throws
    func fail(id: Int, reason: String, now: Date) async throws
    /// Puts IN_PROGRESS tasks back to PENDING (start-up after a crash: nobody is working on them).
    func requeueInProgress(now: Date) async throws -> [Int]
    /// The task's transitions, oldest first.
    func transitions(id: Int) async throws -> [TaskTransition]
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

