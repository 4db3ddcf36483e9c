import Foundation
import GeoJSON
import Logging
import MapDepotCore
import ServiceLifecycle
import Synchronization

/// Takes PENDING jobs and runs them, at most ``maxConcurrentTasks`` at once, on one of possibly several nodes.
///
/// A job is claimed atomically under a lease that a heartbeat renews while it runs (and every checkpoint
/// extends). A node that dies stops renewing; every worker's takeover pass puts jobs with expired leases back in
/// the queue, and the next claim resumes them from their checkpoint (the staged package is kept). A worker that
/// finds it lost a lease stops at once without touching files. With the embedded backend the process is the
/// only one, so at start it requeues every IN_PROGRESS job at once (`exclusive`).
public struct ExportWorker: Sendable {
    private let tasks: any ExportTaskStore
    private let catalog: CatalogService
    private let runner: ExportRunner
    private let artifacts: any ArtifactStore
    private let clock: any WallClock
    private let expiryDays: Int
    private let progressEventInterval: TimeInterval
    /// Tiles a second one export may write at most (nil: as fast as it goes), so that exports do not starve other users
    /// of shared storage; the demo uses it to show every stage of a task.
    private let maxTilesPerSecond: Double?
    private let logger: Logger
    public let maxConcurrentTasks: Int
    /// How long an idle slot waits for a signal before it looks for work anyway.
    private let pollInterval: Duration
    private let workSignal: WorkSignal
    /// This worker's name in leases.
    public let node = UUID().uuidString.lowercased()
    private let leaseDuration: TimeInterval
    private let exclusive: Bool
    /// Set when graceful shutdown begins: no new claims, running exports stop at their next checkpoint.
    private let stopping = StopFlag()

    public init(
        tasks: any ExportTaskStore, catalog: CatalogService, runner: ExportRunner, artifacts: any ArtifactStore, clock: any WallClock,
        expiryDays: Int, maxConcurrentTasks: Int, progressEventInterval: TimeInterval, maxTilesPerSecond: Double? = nil,
        pollInterval: Duration, workSignal: WorkSignal = WorkSignal(), leaseDuration: TimeInterval, exclusive: Bool = true,
        logger: Logger
    ) {
        self.workSignal = workSignal
        self.leaseDuration = max(1, leaseDuration)
        self.exclusive = exclusive
        self.tasks = tasks
        self.catalog = catalog
        self.runner = runner
        self.artifacts = artifacts
        self.clock = clock
        self.expiryDays = expiryDays
        self.progressEventInterval = progressEventInterval
        self.maxTilesPerSecond = maxTilesPerSecond.flatMap { $0 > 0 ? $0 : nil }
        self.maxConcurrentTasks = max(1, maxConcurrentTasks)
        self.pollInterval = pollInterval
        self.logger = logger
    }

    /// Runs until cancelled, or until graceful shutdown (SIGTERM) has let every running export reach a checkpoint:
    /// then each is handed back (its lease released, its staged package kept) to be resumed from that checkpoint
    /// by the next worker to claim it, on this node's next start or on another node (issue #9).
    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await work()
        } onGracefulShutdown: { [stopping, workSignal] in
            stopping.set()
            workSignal.notify()
        }
    }

    private func work() async throws {
        if exclusive {
            while true {
                do {
                    let requeued = try await tasks.requeueInProgress(now: clock.now())
                    if !requeued.isEmpty {
                        logger.warning("exports left in progress by a stopped process are queued again", metadata: ["export.jobs": "\(requeued)"])
                    }
                    break
                } catch {
                    try Task.checkCancellation()
                    logger.warning("could not requeue exports left in progress; trying again", metadata: ["error": "\(error)"])
                    try await clock.sleep(for: pollInterval)
                }
            }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await takeover() }
            try await withThrowingTaskGroup(of: Void.self) { slots in
                for _ in 0..<maxConcurrentTasks {
                    slots.addTask { try await slot() }
                }
                try await slots.waitForAll()
            }
            group.cancelAll()
        }
    }

    /// Requeues jobs whose node stopped renewing their lease.
    private func takeover() async throws {
        while !Task.isCancelled {
            if let requeued = try? await tasks.requeueExpiredLeases(now: clock.now()), !requeued.isEmpty {
                logger.warning("exports whose node stopped are queued again", metadata: ["export.jobs": "\(requeued)"])
            }
            try await clock.sleep(for: .milliseconds(Int64(leaseDuration * 1000 / 3)))
        }
    }

    private func lease() -> JobLease {
        JobLease(owner: node, until: clock.now().addingTimeInterval(leaseDuration))
    }

    /// A failed claim (the state database locked by another process past its busy timeout, PostgreSQL
    /// restarting) is logged and tried again, after 0.25 s doubling up to 5 s (or the poll interval, if shorter):
    /// it must not end the worker, whose error would stop the whole server, and a job queued meanwhile must not
    /// wait for the next poll, whose notification may have gone with the connection (issue #9).
    private func slot() async throws {
        var failures = 0
        while !Task.isCancelled && !stopping.isSet {
            let seen = workSignal.generation
            let job: ExportJob?
            do {
                job = try await tasks.claimNextJob(now: clock.now(), lease: lease())
                failures = 0
            } catch {
                try Task.checkCancellation()
                logger.warning("could not look for work; trying again", metadata: ["error": "\(error)"])
                try await clock.sleep(for: min(pollInterval, .milliseconds(250 << min(failures, 5)), .seconds(5)))
                failures += 1
                continue
            }
            if let job {
                await execute(job)
            } else {
                await workSignal.wait(since: seen, timeout: pollInterval, clock: clock)
                try Task.checkCancellation()
            }
        }
    }

    /// Runs one claimed job to COMPLETED, PAUSED, ABORTED or FAILED.
    public func execute(_ job: ExportJob) async {
        var logger = self.logger
        logger[metadataKey: "export.job"] = "\(job.id)"
        let store = tasks
        let clock = self.clock
        let interval = progressEventInterval
        let lastEvent = LastEvent(clock.now())
        let pace = maxTilesPerSecond.map { Pace(rate: $0, start: clock.now(), tilesBefore: job.tilesDone) }
        let lease = self.lease
        let duration = leaseDuration
        let stopping = self.stopping
        // The heartbeat keeps the lease while nothing else does (planning, publishing a large package).
        let heartbeat = Task {
            while !Task.isCancelled {
                try? await clock.sleep(for: .milliseconds(Int64(duration * 1000 / 3)))
                if Task.isCancelled { break }
                _ = try? await store.renewLease(jobId: job.id, lease: lease())
            }
        }
        defer { heartbeat.cancel() }
        do {
            let record = try await catalog.record(id: job.catalogRecordID)
            let roi = try ExportRequest.parseROI(job.roi)
            let result = try await runner.run(
                record: record, roi: roi, options: job.options, folder: job.folder, createdAt: job.createdAt, resumeFrom: job.batchesDone, logger: logger
            ) { point in
                if let wait = pace?.wait(tilesDone: point.tilesDone, now: clock.now()) { try? await clock.sleep(for: wait) }
                let now = clock.now()
                let event: WebhookEvent? = lastEvent.due(now, every: interval) ? .taskInProgress : nil
                let current: ExportJob?
                do {
                    let checkpoint = ExportRules.Checkpoint(
                        progress: point.progress, batchesDone: point.batchesDone, tilesDone: point.tilesDone, estimatedTime: point.estimatedSeconds
                    )
                    current = try await store.recordProgress(jobId: job.id, lease: lease(), checkpoint: checkpoint, event: event, now: now)
                } catch {
                    return .proceed  // a failed checkpoint write is retried at the next one
                }
                guard let current else { return .relinquish }
                if current.abortRequested { return .abort }
                if current.pauseRequested { return .pause }
                if stopping.isSet { return .relinquish }
                return .proceed
            }
            let now = clock.now()
            var finished = true
            switch result {
            case .completed(let outcome):
                finished = try await tasks.finishJob(
                    jobId: job.id, lease: lease(), to: .completed, reason: nil, artifacts: outcome.artifacts,
                    expiresAt: now.addingTimeInterval(Double(expiryDays) * 86_400), now: now
                )
            case .paused:
                finished = try await tasks.finishJob(
                    jobId: job.id, lease: lease(), to: .paused, reason: nil, artifacts: nil, expiresAt: nil, now: now
                )
            case .aborted:
                finished = try await tasks.finishJob(
                    jobId: job.id, lease: lease(), to: .aborted, reason: "aborted by its owner", artifacts: nil, expiresAt: nil, now: now
                )
            case .relinquished:
                if stopping.isSet {
                    await handBack(job, logger: logger)
                    return
                }
                finished = false
            }
            if !finished { logger.warning("export given up: another node holds it now") }
        } catch where Task.isCancelled {
            // The shutdown grace period ran out before a checkpoint: the export is not at fault.
            await handBack(job, logger: logger)
        } catch where [.busy, .unreachable].contains(StorageCondition.of(error)) {
            // The state database (or a source) went away for a moment — PostgreSQL restarting, SQLite locked past its
            // busy timeout: the export is not at fault either. Its lease is released and the takeover loop queues it
            // again, to resume from its checkpoint (issue #9: a restart mid-export had ended it FAILED).
            logger.warning("storage unavailable mid-export", metadata: ["error": "\(String(reflecting: error))"])
            await handBack(job, logger: logger)
        } catch {
            logger.error("export failed", metadata: ["error": "\(String(reflecting: error))"])
            // FAILED exports keep nothing: their partial files go now (only while this node still holds the job).
            if (try? await tasks.finishJob(
                jobId: job.id, lease: lease(), to: .failed, reason: Self.reason(error), artifacts: nil, expiresAt: nil, now: clock.now()
            )) == true {
                try? await artifacts.delete(prefix: job.folder)
            }
        }
    }

    /// Releases the lease of a job stopped for shutdown or by a storage outage, so that it is taken over at once;
    /// the job stays IN_PROGRESS with its checkpoint (the takeover loop requeues it; at shutdown, the embedded
    /// backend does when the process starts again). Should the release fail too, the lease simply runs out.
    private func handBack(_ job: ExportJob, logger: Logger) async {
        _ = try? await tasks.renewLease(jobId: job.id, lease: JobLease(owner: node, until: clock.now()))
        logger.info("export stopped; it resumes from its checkpoint", metadata: ["export.job": "\(job.id)"])
    }

    static func reason(_ error: any Error) -> String {
        if let error = error as? ServiceError { return error.message }
        if StorageCondition.of(error) == .full {
            return "no space was left on the artifact store while the package was written; free space and ask again (\(error))"
        }
        // A database error's own text is for the operator's log (PostgreSQL's may hold the statement), not the customer.
        if error is any StorageConditionReporting { return "the export failed on a storage error; the operator's log has the details" }
        return "\(error)"
    }

}

/// A flag set once, read from any task.
final class StopFlag: Sendable {
    private let value = Mutex(false)

    var isSet: Bool { value.withLock { $0 } }

    func set() { value.withLock { $0 = true } }
}

/// How long a run must wait at a checkpoint to stay under its tiles-per-second limit.
struct Pace: Sendable {
    var rate: Double
    var start: Date
    var tilesBefore: Int

    /// Nil when the run is not ahead of its pace.
    func wait(tilesDone: Int, now: Date) -> Duration? {
        let ahead = Double(tilesDone - tilesBefore) / rate - now.timeIntervalSince(start)
        return ahead > 0.001 ? .milliseconds(Int64(ahead * 1000)) : nil
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
