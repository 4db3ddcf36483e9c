import Foundation
import Logging
import MapDepotCore

/// Expiry and archive (issue #4 part 4): completed jobs past `expiredAt` lose their artifacts and become
/// EXPIRED (TASK_EXPIRED to their tasks); finished tasks older than ``archiveAfterDays`` become ARCHIVED.
public struct ExportSweeper: Sendable {
    private let store: any ExportTaskStore
    private let artifacts: any ArtifactStore
    private let clock: any WallClock
    private let archiveAfterDays: Int
    private let interval: Duration
    private let logger: Logger

    public init(
        store: any ExportTaskStore, artifacts: any ArtifactStore, clock: any WallClock, archiveAfterDays: Int, interval: Duration,
        logger: Logger
    ) {
        self.store = store
        self.artifacts = artifacts
        self.clock = clock
        self.archiveAfterDays = archiveAfterDays
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled {
            do {
                try await tick()
            } catch {
                logger.error("sweep failed", metadata: ["error": "\(error)"])
            }
            try await clock.sleep(for: interval)
        }
    }

    /// One sweep. The job is marked EXPIRED before its files go, so no request can be answered with
    /// artifacts that are being deleted.
    public func tick() async throws {
        let now = clock.now()
        for job in try await store.expiredJobs(now: now) {
            try await store.transitionJob(jobId: job.id, to: .expired, reason: nil, artifacts: [], expiresAt: nil, now: now)
            try await artifacts.delete(prefix: job.folder)
            logger.info("export expired", metadata: ["export.job": "\(job.id)"])
        }
        for task in try await store.finishedTasks(before: now.addingTimeInterval(-Double(archiveAfterDays) * 86_400)) {
            try await store.transitionTask(id: task.id, to: .archived, reason: "archived after \(archiveAfterDays) days", now: now)
        }
    }
}
