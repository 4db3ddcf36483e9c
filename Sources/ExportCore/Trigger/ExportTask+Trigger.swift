import Foundation
import JSONValues
import MapDepotCore

extension TaskStatus {
    /// job-manager's vocabulary, as exporter-trigger's `GET /export/{jobId}/status` answers it. PAUSED is job-manager's
    /// Suspended; ARCHIVED (the customer put the task away) is Expired: the job is no longer the caller's to fetch.
    public var triggerStatus: String {
        switch self {
        case .pending: "Pending"
        case .inProgress: "In-Progress"
        case .completed: "Completed"
        case .failed: "Failed"
        case .aborted: "Aborted"
        case .paused: "Suspended"
        case .expired, .archived: "Expired"
        }
    }
}

extension ExportTask {
    /// `GET /export/{jobId}/status`: `{percentage, status}`.
    public var triggerStatusJSON: JSONValue {
        .object(["percentage": .number(Double(progress)), "status": .string(status.triggerStatus)])
    }

    /// `POST /export`'s answer (export-anchors §1.2): a completed export is the "naive cache" answer with its links;
    /// otherwise `{jobId, status}`, with `percentage` and `isDuplicated: true` when the request joined work already
    /// queued or running. A paused job is Pending here (the answer's enum has no Suspended).
    public func triggerAnswer(outcome: AdmissionOutcome, links: any ArtifactLinks) -> JSONValue {
        if status == .completed { return triggerResult(links: links, description: description) }
        var object: [String: JSONValue] = [
            "jobId": .string(TriggerJobId.string(taskId: id)), "status": .string(status == .inProgress ? "In-Progress" : "Pending"),
        ]
        if outcome != .queued {
            object["percentage"] = .number(Double(progress))
            object["isDuplicated"] = .bool(true)
        }
        return .object(object)
    }

    /// The finished export in exporter-trigger's terms: `ExportNaiveCacheJobResponse` and, as a callback,
    /// `CallbackExportResponse` (`status` Completed or Failed). Without `links`, artifacts carry their store `key`
    /// and there are no `links` (the stored form of a callback, ``WebhookMessage``).
    func triggerResult(links: (any ArtifactLinks)?, description: String?) -> JSONValue {
        var object: [String: JSONValue] = [
            "status": .string(status == .completed ? "Completed" : "Failed"),
            "jobId": .string(TriggerJobId.string(taskId: id)),
            "recordCatalogId": .string(catalogRecordID.uuidString.lowercased()),
            "roi": roi,
            "expirationTime": expiredAt.map { .string(Timestamp.string($0)) } ?? .null,
            "fileSize": .number(Double(artifacts.first { $0.type == .gpkg }?.size ?? 0)),
            "artifacts": .array(
                artifacts.map {
                    .object([
                        "type": .string($0.type.rawValue), "name": .string($0.name), "size": .number(Double($0.size)), "sha256": .string($0.sha256),
                        links == nil ? "key" : "url": .string(links?.url(for: $0.key, expires: expiredAt) ?? $0.key),
                    ])
                }
            ),
        ]
        if let description { object["description"] = .string(description) }
        if let errorReason { object["errorReason"] = .string(errorReason) }
        if let links { object["links"] = Self.triggerLinks(artifacts: object["artifacts"]!, links: links) }
        return .object(object)
    }

    /// `{dataURI, metadataURI}` from the artifacts' URLs.
    static func triggerLinks(artifacts: JSONValue, links: any ArtifactLinks) -> JSONValue {
        var result: [String: JSONValue] = [:]
        for artifact in artifacts.arrayValue ?? [] {
            guard let fields = artifact.objectValue, let url = fields["url"] else { continue }
            switch fields["type"]?.stringValue {
            case ArtifactType.gpkg.rawValue?: result["dataURI"] = url
            case ArtifactType.metadata.rawValue?: result["metadataURI"] = url
            default: break
            }
        }
        return .object(result)
    }

    /// overseer's callback descriptions (export-anchors §2.3).
    static let callbackDescriptions = (
        completed: "The export process completed successfully.", failed: "The export process could not be completed. Error occurred."
    )
}
