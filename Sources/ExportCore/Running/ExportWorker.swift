import GeoJSON
import MapDepotCore
import Foundation
import Logging

/// Takes PENDING tasks and runs them, at most ``maxConcurrentTasks`` at once.
///
/// At start it puts tasks left IN_PROGRESS by a killed process back to PENDING: they are built again from
/// the start (their staging files are overwritten), so nothing hangs. Each of the ``maxConcurrentTasks``
/// slots claims a task (atomically, in the store), runs it, and polls every ``pollInterval`` when idle.
public struct ExportWorker: Sendable {
    private let tasks: any ExportTaskStore
    private let catalog: CatalogService
    private let runner: ExportRunner
    private let clock: any WallClock
    private let expiryDays: Int
    private let logger: Logger
    public let maxConcurrentTasks: Int
    private let pollInterval: Duration

    public init(
        tasks: any ExportTaskStore, catalog: CatalogService, runner: ExportRunner, clock: any WallClock,
        expiryDays: Int, maxConcurrentTasks: Int, pollInterval: Duration = .milliseconds(250), logger: Logger
    ) {
        self.tasks = tasks
        self.catalog = catalog
        self.runner = runner
        self.clock = clock
        self.expiryDays = expiryDays
        self.maxConcurrentTasks = max(1, maxConcurrentTasks)
        self.pollInterval = pollInterval
        self.logger = logger
    }

    /// Runs until cancelled.
    public func run() async throws {
        let requeued = try await tasks.requeueInProgress(now: clock.now())
        if !requeued.isEmpty {
            logger.warning("tasks left in progress by a stopped process are queued again", metadata: ["export.ids": "\(requeued)"])
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<maxConcurrentTasks {
                group.addTask { try await slot() }
            }
            try await group.waitForAll()
        }
    }

    private func slot() async throws {
        while !Task.isCancelled {
            if let task = try await tasks.claimNext(now: clock.now()) {
                await execute(task)
            } else {
                try await Task.sleep(for: pollInterval)
            }
        }
    }

    /// Runs one claimed task to COMPLETED or FAILED.
    func execute(_ task: ExportTask) async {
        var logger = self.logger
        logger[metadataKey: "export.id"] = "\(task.id)"
        do {
            let request = try ExportRequest(json: Self.requestJSON(of: task))
            let record = try await catalog.record(id: task.catalogRecordID)
            let store = tasks
            let id = task.id
            let outcome = try await runner.run(
                record: record, roi: request.roi, folder: "exports/\(task.id)", createdAt: task.createdAt, logger: logger
            ) { percent in
                try? await store.updateProgress(id: id, progress: percent, now: clock.now())
            }
            let now = clock.now()
            try await tasks.complete(
                id: task.id, artifacts: outcome.artifacts, now: now,
                expiresAt: now.addingTimeInterval(Double(expiryDays) * 86_400)
            )
        } catch {
            logger.error("export failed", metadata: ["error": "\(error)"])
            try? await tasks.fail(id: task.id, reason: Self.reason(error), now: clock.now())
        }
    }

    static func reason(_ error: any Error) -> String {
        if let error = error as? ServiceError { return error.message }
        return "\(error)"
    }

    /// The task's request as it was accepted (the ROI with its per-feature resolutions).
    static func requestJSON(of task: ExportTask) -> JSONValue {
        .object([
            "catalogRecordID": .string(task.catalogRecordID.uuidString),
            "domain": .string(task.domain.rawValue),
            "ROI": task.roi,
            "artifactCRS": .string(task.artifactCRS),
            "webhooks": .array([]),
        ])
    }
}
