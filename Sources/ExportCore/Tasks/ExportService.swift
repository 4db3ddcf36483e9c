import Foundation
import MapDepotCore

/// Export admission, control and queries: what `/export-tasks…` does. The worker picks up the jobs this queues.
public struct ExportService: Sendable {
    /// The rules admission applies.
    public struct Admission: Sendable {
        /// Days from completion (or a re-request) to `expiredAt`.
        public var expiryDays: Int
        /// PENDING + IN_PROGRESS + PAUSED tasks one customer may have (429 beyond).
        public var maxActiveTasksPerCustomer: Int
        /// Bytes to keep free on the artifact store besides what queued jobs will write.
        public var reserveBytes: Int64
        public var webhooks: WebhookPolicy

        public init(expiryDays: Int, maxActiveTasksPerCustomer: Int, reserveBytes: Int64, webhooks: WebhookPolicy) {
            self.expiryDays = expiryDays
            self.maxActiveTasksPerCustomer = maxActiveTasksPerCustomer
            self.reserveBytes = reserveBytes
            self.webhooks = webhooks
        }
    }

    let catalog: CatalogService
    let tasks: any ExportTaskStore
    let artifacts: any ArtifactStore
    let planner: ExportPlanner
    let clock: any WallClock
    let admission: Admission
    /// Wakes this process's idle workers when a job is queued (other nodes hear PostgreSQL's NOTIFY).
    let workSignal: WorkSignal?
    /// Largest `limit` accepted by the list (export-management `maxTasksNumber`).
    public let maxListLimit: Int
    /// What pollers of a task (Server-Sent Events streams) are shown: one read per task per 200 ms for all of them.
    private let polled: RecentReads<TaskReference, ExportTask?>
    /// Admissions of the same customer's same request while one is in flight: answered by that one.
    private let admissions = SingleFlight<AdmissionKey, (ExportTask, AdmissionOutcome)>()

    public init(
        catalog: CatalogService, tasks: any ExportTaskStore, artifacts: any ArtifactStore, planner: ExportPlanner, clock: any WallClock,
        admission: Admission, maxListLimit: Int, workSignal: WorkSignal? = nil
    ) {
        self.workSignal = workSignal
        self.catalog = catalog
        self.tasks = tasks
        self.artifacts = artifacts
        self.planner = planner
        self.clock = clock
        self.admission = admission
        self.maxListLimit = maxListLimit
        self.polled = RecentReads(maxAge: .milliseconds(200)) { [tasks] reference in
            try await tasks.task(id: reference.id, customer: reference.customer)
        }
    }

    /// Checks a request and says how big it is, without storing anything.
    public func estimate(_ request: ExportRequest) async throws -> ExportEstimate {
        try await estimate(request, record: try await record(for: request))
    }

    private func record(for request: ExportRequest) async throws -> CatalogRecord {
        let record = try await catalog.record(id: request.catalogRecordID)
        guard record.domain == request.domain else {
            throw ServiceError.invalid(
                "domain \"\(request.domain.rawValue)\" does not match the catalog record's domain \"\(record.domain.rawValue)\""
            )
        }
        return record
    }

    private func estimate(_ request: ExportRequest, record: CatalogRecord) async throws -> ExportEstimate {
        let planner = self.planner
        let roi = request.roi
        if case .tileset(let path) = record.source {
            let source = try ThreeDSource(path: path)
            return try await Offload.run { try source.estimate(roi) }
        }
        if record.domain == .dem {
            let options = try DEMOptions(parameters: request.parameters, record: record)
            let single = options.roi(roi)
            var estimate = try await Offload.run { try planner.estimate(record: record, roi: single) }
            // At most a tile's raw cells (compression only shrinks them) and the file's own pages.
            estimate.bytes = Int64(estimate.tiles) * Int64(256 * 256 * (options.dataType == .int16 ? 2 : 4) + 1_024) + 98_304
            return estimate
        }
        return try await Offload.run { try planner.estimate(record: record, roi: roi) }
    }

    /// Admits a request (issue #4 parts 1 and 6): validates it, answers an equivalent live task at once
    /// (the customer's own, or a new task sharing another customer's work), else checks the customer's limit
    /// and the storage, and queues a new job.
    public func create(_ request: ExportRequest, customer: String) async throws -> (ExportTask, AdmissionOutcome) {
        try admission.webhooks.check(request.webhooks, member: request.usesSingularWebhook ? "webhook" : "webhooks")
        let record = try await record(for: request)
        let estimate = try await estimate(request, record: record)
        var key = request.dedupKey(recordMaxResolutionDeg: record.maxResolutionDeg)
        if record.domain == .dem { key += "|" + (try DEMOptions(parameters: request.parameters, record: record)).key }
        let new = NewExportTask(
            customer: customer, request: request, estimate: estimate, createdAt: clock.now(), dedupKey: key, expiryDays: admission.expiryDays,
            maxActiveTasks: admission.maxActiveTasksPerCustomer
        )
        if try await tasks.liveJob(dedupKey: key) == nil {
            // A quick answer for the common case; the store checks again inside the admission transaction.
            if let refusal = new.limitRefusal(active: try await tasks.activeTaskCount(customer: customer)) { throw refusal }
            let storage = try await storage()
            guard storage.available >= estimate.bytes else {
                throw ServiceError(
                    .insufficientStorage,
                    "not enough storage: the export needs about \(estimate.bytes) bytes; \(storage.free) are free, \(storage.committed) are committed to queued and running exports and \(admission.reserveBytes) are reserved, leaving \(storage.available)"
                )
            }
        }
        // A request equal to one of the customer's in flight (same job, same webhooks) gets its task as an existing one,
        // as it would a moment later, without a turn at the job's lock of its own.
        let flight = AdmissionKey(customer: customer, dedupKey: key, webhooks: request.webhooks, singular: request.usesSingularWebhook)
        let (admitted, shared) = try await admissions.run(flight) { [tasks] in try await tasks.admit(new) }
        if shared { return (admitted.0, .existingTask) }
        if admitted.1 == .queued { workSignal?.notify() }
        return admitted
    }

    /// What makes two admissions one: everything a second one could change of the first one's task.
    private struct AdmissionKey: Hashable, Sendable {
        var customer: String
        var dedupKey: String
        var webhooks: [Webhook]
        var singular: Bool
    }

    /// What the artifact store can still take (MapColonies' rule, export-anchors §3.3): free space minus what queued
    /// and running work still needs (estimate × remaining share × 1.25) and the reserve. A new export must fit in
    /// `available`; the estimate shows it to the web tool.
    public func storage() async throws -> (free: Int64, committed: Int64, available: Int64) {
        let free = try artifacts.freeBytes()
        let committed = Int64(Double(try await tasks.committedBytes()) * 1.25)
        return (free, committed, max(0, free - committed - admission.reserveBytes))
    }

    /// The customer's task; another customer's task is "not found" (never "forbidden": ids are not secrets
    /// to confirm).
    public func task(id: Int, customer: String) async throws -> ExportTask {
        guard let task = try await tasks.task(id: id, customer: customer) else {
            throw ServiceError.notFound("task id: \(id) is not found")
        }
        return task
    }

    /// The task as a poller sees it: at most 200 ms old, read once for every poller of it (1,000 SSE streams on one
    /// task read it ~5 times a second, not 4,000; issue #9). Not for answers that must show a write just made.
    public func polledTask(id: Int, customer: String) async throws -> ExportTask {
        guard let task = try await polled.value(for: TaskReference(id: id, customer: customer)) else {
            throw ServiceError.notFound("task id: \(id) is not found")
        }
        return task
    }

    /// The customer's newest tasks; ARCHIVED ones only when asked for by status.
    public func tasks(customer: String, limit: Int?, status: TaskStatus? = nil) async throws -> [ExportTask] {
        let limit = limit ?? 10
        guard limit >= 1 else { throw ServiceError.invalid("limit must be at least 1, found \(limit)") }
        guard limit <= maxListLimit else {
            throw ServiceError.invalid("requested limit \(limit) is higher than the maximum possible limit \(maxListLimit)")
        }
        return try await tasks.tasks(customer: customer, limit: limit, status: status)
    }

    /// The task's webhook deliveries.
    public func deliveries(id: Int, customer: String) async throws -> [WebhookDelivery] {
        _ = try await task(id: id, customer: customer)
        return try await tasks.deliveries(taskId: id)
    }

    /// Who asks for an export's artifact.
    public enum DownloadAccess: Sendable, Hashable {
        /// A signed link the HTTP layer verified: the link is the right, whoever holds it.
        case signedLink
        /// A token's subject: it must have a task on the job that it did not abort or leave (issue #9: a customer that
        /// aborted its share of a joint export could still download it).
        case customer(String)
    }

    /// The job's artifact named `name`, if `access` may have it; everyone else is told it is not found.
    public func artifact(jobId: Int, name: String, access: DownloadAccess) async throws -> Artifact {
        if case .customer(let customer) = access, try await !tasks.customerHasTask(customer: customer, jobId: jobId) {
            throw ServiceError.notFound("task id: \(jobId) is not found")
        }
        guard let job = try await tasks.job(id: jobId), let artifact = job.artifacts.first(where: { $0.name == name }) else {
            throw ServiceError.notFound("no artifact named \(name)")
        }
        return artifact
    }
}

/// A task as one customer may see it.
struct TaskReference: Hashable, Sendable {
    var id: Int
    var customer: String
}
