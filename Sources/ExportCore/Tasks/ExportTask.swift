import Foundation
import GeoJSON
import JSONValues
import MapDepotCore

/// Task statuses of the Export contract (export-management v1.7.0 `status`).
public enum TaskStatus: String, Sendable, Codable, CaseIterable {
    case pending = "PENDING"
    case inProgress = "IN_PROGRESS"
    case completed = "COMPLETED"
    case failed = "FAILED"
    case aborted = "ABORTED"
    case paused = "PAUSED"
    case expired = "EXPIRED"
    case archived = "ARCHIVED"

    /// Whether the task has reached an end.
    public var isFinished: Bool {
        switch self {
        case .completed, .failed, .aborted, .expired, .archived: true
        case .pending, .inProgress, .paused: false
        }
    }
}

/// Artifact types the raster exporter emits (export-anchors §1.1 "Artifact").
public enum ArtifactType: String, Sendable, Codable, CaseIterable {
    case gpkg = "GPKG"
    case metadata = "METADATA"
    /// A 3D Tiles subset, zipped (domain 3D, issue #13).
    case threeDModel = "3D_MODEL"
}

/// A published file of a task.
public struct Artifact: Sendable, Hashable {
    public var type: ArtifactType
    public var name: String
    public var size: Int64
    /// The artifact store's key (`exports/<task>/<name>`); the API turns it into a URL.
    public var key: String
    public var sha256: String

    public init(type: ArtifactType, name: String, size: Int64, key: String, sha256: String) {
        self.type = type
        self.name = name
        self.size = size
        self.key = key
        self.sha256 = sha256
    }
}

/// An export task as stored (SPEC "Task fields"): one customer's request. The work itself is an
/// ``ExportJob``, shared by every equivalent request; the task mirrors the job's status, progress and
/// artifacts until the customer detaches it (abort of shared work) or archives it.
public struct ExportTask: Sendable, Hashable {
    public var id: Int
    public var jobId: Int
    /// The v1.5 dialect: answered and delivered with `webhook` instead of `webhooks`.
    public var usesSingularWebhook: Bool
    /// The token subject that owns the task.
    public var customer: String
    public var catalogRecordID: UUID
    public var domain: ProductDomain
    public var roi: JSONValue
    public var artifactCRS: String
    public var description: String?
    public var keywords: JSONValue?
    public var parameters: JSONValue?
    public var webhooks: [Webhook]
    public var estimatedSize: Int64
    /// Seconds.
    public var estimatedTime: Int64
    public var estimatedTiles: Int
    public var status: TaskStatus
    public var errorReason: String?
    /// 0…100.
    public var progress: Int
    public var artifacts: [Artifact]
    public var createdAt: Date
    public var updatedAt: Date
    public var expiredAt: Date?
    public var finishedAt: Date?
    /// Left its job (aborted a shared export, or archived): the job's changes no longer reach it.
    public var isDetached: Bool

    public init(
        id: Int, jobId: Int, usesSingularWebhook: Bool, customer: String, catalogRecordID: UUID, domain: ProductDomain, roi: JSONValue, artifactCRS: String,
        description: String?, keywords: JSONValue?, parameters: JSONValue?, webhooks: [Webhook], estimatedSize: Int64,
        estimatedTime: Int64, estimatedTiles: Int, status: TaskStatus, errorReason: String?, progress: Int,
        artifacts: [Artifact], createdAt: Date, updatedAt: Date, expiredAt: Date?, finishedAt: Date?, isDetached: Bool = false
    ) {
        self.id = id
        self.jobId = jobId
        self.usesSingularWebhook = usesSingularWebhook
        self.customer = customer
        self.catalogRecordID = catalogRecordID
        self.domain = domain
        self.roi = roi
        self.artifactCRS = artifactCRS
        self.description = description
        self.keywords = keywords
        self.parameters = parameters
        self.webhooks = webhooks
        self.estimatedSize = estimatedSize
        self.estimatedTime = estimatedTime
        self.estimatedTiles = estimatedTiles
        self.status = status
        self.errorReason = errorReason
        self.progress = progress
        self.artifacts = artifacts
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.expiredAt = expiredAt
        self.finishedAt = finishedAt
        self.isDetached = isDetached
    }
}

/// A task about to be stored: everything but the id.
public struct NewExportTask: Sendable {
    public var customer: String
    public var request: ExportRequest
    public var estimate: ExportEstimate
    public var createdAt: Date
    /// Equivalent requests share the key, and so one job.
    public var dedupKey: String
    /// Days a completed job's artifacts are kept from now, when the request is answered by one.
    public var expiryDays: Int
    /// PENDING + IN_PROGRESS + PAUSED tasks the customer may have when a new job is queued or a running one is joined
    /// (a load test's customer passed it by joining the shared export at its limit). The store counts them
    /// in the admission's own transaction (serialised per customer), so concurrent requests cannot pass it together
    /// (issue #9).
    public var maxActiveTasks: Int

    public init(
        customer: String, request: ExportRequest, estimate: ExportEstimate, createdAt: Date, dedupKey: String, expiryDays: Int,
        maxActiveTasks: Int = .max
    ) {
        self.customer = customer
        self.request = request
        self.estimate = estimate
        self.createdAt = createdAt
        self.dedupKey = dedupKey
        self.expiryDays = expiryDays
        self.maxActiveTasks = maxActiveTasks
    }

    /// The refusal when the customer already has `active` tasks and the limit is reached; nil when one more fits.
    public func limitRefusal(active: Int) -> ServiceError? {
        guard active >= maxActiveTasks else { return nil }
        return ServiceError(
            .tooManyRequests, "customer \(customer) has \(active) tasks pending, in progress or paused; the limit is \(maxActiveTasks)"
        )
    }
}

/// What admission did with a request.
public enum AdmissionOutcome: String, Sendable {
    /// A new job was queued.
    case queued
    /// The customer's own equivalent task was answered (webhooks merged, expiry extended if completed).
    case existingTask
    /// A new task for this customer shares another customer's job.
    case sharedJob
}

/// The work of an export, shared by all equivalent tasks.
public struct ExportJob: Sendable, Hashable {
    public var id: Int
    public var dedupKey: String
    public var catalogRecordID: UUID
    /// The accepted request's ROI (with per-feature resolutions).
    public var roi: JSONValue
    public var status: TaskStatus
    public var progress: Int
    /// Plan batches written so far: where a resumed run starts.
    public var batchesDone: Int
    public var tilesDone: Int
    public var estimatedTiles: Int
    public var estimatedSize: Int64
    /// Seconds still to go, as the last checkpoint estimated them.
    public var estimatedTime: Int64
    public var artifacts: [Artifact]
    public var errorReason: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var expiredAt: Date?
    public var finishedAt: Date?
    public var pauseRequested: Bool
    public var abortRequested: Bool
    /// Who runs it, while IN_PROGRESS.
    public var lease: JobLease?
    /// What the domain needs beyond the ROI: a DEM export's `parameters` (resolution, data type, resampling; issue #13).
    public var options: JSONValue?

    public init(
        id: Int, dedupKey: String, catalogRecordID: UUID, roi: JSONValue, status: TaskStatus, progress: Int, batchesDone: Int,
        tilesDone: Int, estimatedTiles: Int, estimatedSize: Int64, estimatedTime: Int64, artifacts: [Artifact], errorReason: String?,
        createdAt: Date, updatedAt: Date, expiredAt: Date?, finishedAt: Date?, pauseRequested: Bool, abortRequested: Bool, lease: JobLease?,
        options: JSONValue? = nil
    ) {
        self.options = options
        self.id = id
        self.dedupKey = dedupKey
        self.catalogRecordID = catalogRecordID
        self.roi = roi
        self.status = status
        self.progress = progress
        self.batchesDone = batchesDone
        self.tilesDone = tilesDone
        self.estimatedTiles = estimatedTiles
        self.estimatedSize = estimatedSize
        self.estimatedTime = estimatedTime
        self.artifacts = artifacts
        self.errorReason = errorReason
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.expiredAt = expiredAt
        self.finishedAt = finishedAt
        self.pauseRequested = pauseRequested
        self.abortRequested = abortRequested
        self.lease = lease
    }

    /// The artifact folder every task of the job shares.
    public var folder: String { Self.folder(id: id) }

    /// The artifact folder of job `id`: `exports/<id>`.
    public static func folder(id: Int) -> String { "exports/\(id)" }
}
