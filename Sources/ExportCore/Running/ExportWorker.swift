import Foundation
import GeoJSON
import Logging
import MapDepotCore
import Synchronization

/// Takes PENDING jobs and runs them, at most ``maxConcurrentTasks`` at once.
///
/// At start it puts jobs left IN_PROGRESS by a killed process back to PENDING; they resume from their last
/// checkpoint (the staged package is kept). Each of the ``maxConcurrentTasks`` slots claims a job atomically
/// in the store, runs it, and polls every ``pollInterval`` when idle.
public struct ExportWorker: Sendable {
    private let tasks: any ExportTaskStore
    private let catalog: CatalogService
    private let runner: ExportRunner
    private let artifacts: any ArtifactStore
    private let clock: any WallClock
    private let expiryDays: Int
    private let progressEventInterval: TimeInterval
    private let render: WebhookRenderer
    private let logger: Logger
    public let maxConcurrentTasks: Int
    private let pollInterval: Duration

    public init(
        tasks: any ExportTaskStore, catalog: CatalogService, runner: ExportRunner, artifacts: any ArtifactStore, clock: any WallClock,
        expiryDays: Int, maxConcurrentTasks: Int, progressEventInterval: TimeInterval = 10, render: @escaping WebhookRenderer,
        pollInterval: Duration = .milliseconds(250), logger: Logger
    ) {
        self.tasks = tasks
        self.catalog = catalog
        self.runner = runner
        self.artifacts = artifacts
        self.clock = clock
        self.expiryDays = expiryDays
        self.progressEventInterval = progressEventInterval
        self.render = render
        self.maxConcurrentTasks = max(1, maxConcurrentTasks)
        self.pollInterval = pollInterval
        self.logger = logger
    }

    /// Runs until cancelled.
    public func run() async throws {
        let requeued = try await tasks.requeueInProgress(now: clock.now())
        if !requeued.isEmpty {
            logger.warning("exports left in progress by a stopped process are queued again", metadata: ["export.jobs": "\(requeued)"])
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
            if let job = try await tasks.claimNextJob(now: clock.now(), render: render) {
                await execute(job)
            } else {
                try await Task.sleep(for: pollInterval)
            }
        }
    }

    /// Runs one claimed job to COMPLETED, PAUSED, ABORTED or FAILED.
    public func execute(_ job: ExportJob) async {
        var logger = self.logger
        logger[metadataKey: "export.job"] = "\(job.id)"
        let store = tasks
        let clock = self.clock
        let render = self.render
        let interval = progressEventInterval
        let lastEvent = LastEvent(clock.now())
        do {
            let record = try await catalog.record(id: job.catalogRecordID)
            let roi = try ExportRequest.parseROI(job.roi)
            let result = try await runner.run(
                record: record, roi: roi, folder: job.folder, createdAt: job.createdAt, resumeFrom: job.batchesDone, logger: logger
            ) { point in
                let now = clock.now()
                let event: WebhookEvent? = lastEvent.due(now, every: interval) ? .taskInProgress : nil
                let current = try? await store.recordProgress(
                    jobId: job.id, progress: point.progress, batchesDone: point.batchesDone, tilesDone: point.tilesDone,
                    estimatedTime: point.estimatedSeconds, event: event, now: now, render: render
                )
                if current?.abortRequested == true { return .abort }
                if current?.pauseRequested == true { return .pause }
                return .proceed
            }
            let now = clock.now()
            switch result {
            case .completed(let outcome):
                try await tasks.transitionJob(
                    jobId: job.id, to: .completed, reason: nil, artifacts: outcome.artifacts,
                    expiresAt: now.addingTimeInterval(Double(expiryDays) * 86_400), now: now, render: render
                )
            case .paused:
                try await tasks.transitionJob(jobId: job.id, to: .paused, reason: nil, artifacts: nil, expiresAt: nil, now: now, render: render)
            case .aborted:
                try await tasks.transitionJob(jobId: job.id, to: .aborted, reason: "aborted by its owner", artifacts: nil, expiresAt: nil, now: now, render: render)
            }
        } catch {
            logger.error("export failed", metadata: ["error": "\(error)"])
            // FAILED exports keep nothing: their partial files go now.
            try? await artifacts.delete(prefix: job.folder)
            try? await tasks.transitionJob(
                jobId: job.id, to: .failed, reason: Self.reason(error), artifacts: nil, expiresAt: nil, now: clock.now(), render: render
            )
        }
    }

    static func reason(_ error: any Error) -> String {
        if let error = error as? ServiceError { return error.message }
        return "\(error)"
    }
}

/// When TASK_IN_PROGRESS was last sent: at most one every N seconds.
final class LastEvent: Sendable {
    private let last: Mutex<Date>

    init(_ start: Date) { last = Mutex(start) }

    func due(_ now: Date, every interval: TimeInterval) -> Bool {
        last.withLock { last in
            guard now.timeIntervalSince(last) >= interval else { return false }
            last = now
            return true
        }
    }
}
