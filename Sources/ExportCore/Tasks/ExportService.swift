import Foundation
import MapDepotCore

/// Export admission and queries: what `POST /export-tasks`, `GET /export-tasks…` and the estimate do.
/// The worker picks up what this stores.
public struct ExportService: Sendable {
    private let catalog: CatalogService
    private let tasks: any ExportTaskStore
    private let planner: ExportPlanner
    private let clock: any WallClock
    /// Largest `limit` accepted by the list (export-management `maxTasksNumber`).
    public let maxListLimit: Int

    public init(
        catalog: CatalogService, tasks: any ExportTaskStore, planner: ExportPlanner, clock: any WallClock,
        maxListLimit: Int = 100
    ) {
        self.catalog = catalog
        self.tasks = tasks
        self.planner = planner
        self.clock = clock
        self.maxListLimit = maxListLimit
    }

    /// Checks a request and says how big it is, without storing anything.
    public func estimate(_ request: ExportRequest) async throws -> ExportEstimate {
        let record = try await catalog.record(id: request.catalogRecordID)
        guard record.domain == request.domain else {
            throw ServiceError.invalid(
                "domain \"\(request.domain.rawValue)\" does not match the catalog record's domain \"\(record.domain.rawValue)\""
            )
        }
        return try planner.estimate(record: record, roi: request.roi)
    }

    /// Admits a request: validates it, estimates it, stores a PENDING task for `customer`.
    public func create(_ request: ExportRequest, customer: String) async throws -> ExportTask {
        let estimate = try await estimate(request)
        let task = try await tasks.insert(
            NewExportTask(customer: customer, request: request, estimate: estimate, createdAt: clock.now())
        )
        return task
    }

    /// The customer's task; another customer's task is "not found" (never "forbidden": ids are not secrets
    /// to confirm).
    public func task(id: Int, customer: String) async throws -> ExportTask {
        guard let task = try await tasks.task(id: id, customer: customer) else {
            throw ServiceError.notFound("task id: \(id) is not found")
        }
        return task
    }

    /// The customer's newest tasks.
    public func tasks(customer: String, limit: Int?) async throws -> [ExportTask] {
        let limit = limit ?? 10
        guard limit >= 1 else { throw ServiceError.invalid("limit must be at least 1, found \(limit)") }
        guard limit <= maxListLimit else {
            throw ServiceError.invalid("requested limit \(limit) is higher than the maximum possible limit \(maxListLimit)")
        }
        return try await tasks.tasks(customer: customer, limit: limit)
    }
}
