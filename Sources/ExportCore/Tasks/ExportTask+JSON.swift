import Foundation
import GeoJSON
import JSONValues
import MapDepotCore

extension ExportTask {
    /// The task as the contract's TaskResponse (export-anchors §1.1): what `GET /export-tasks/{id}` answers
    /// and what webhooks carry as `data`. Artifact URLs are signed links valid until `expiredAt`; the v1.5
    /// dialect gets `webhook` instead of `webhooks`. Without `links`, each artifact carries its store `key` instead of a
    /// `url` (the outbox's form, ``WebhookMessage``).
    public func json(links: (any ArtifactLinks)?) -> JSONValue {
        func date(_ value: Date?) -> JSONValue { value.map { .string(Timestamp.string($0)) } ?? .null }
        return .object([
            "id": .number(Double(id)),
            "catalogRecordID": .string(catalogRecordID.uuidString.lowercased()),
            "domain": .string(domain.rawValue),
            "ROI": roi,
            "artifactCRS": .string(artifactCRS),
            "description": description.map(JSONValue.string) ?? .null,
            "keywords": keywords ?? .null,
            // The contract types `parameters` as an object (not nullable): `{}` when none were sent (issue #12).
            "parameters": parameters ?? .object([:]),
            usesSingularWebhook ? "webhook" : "webhooks": .array(webhooks.map(\.json)),
            "estimatedSize": .number(Double(estimatedSize)),
            "estimatedTime": .number(Double(estimatedTime)),
            "status": .string(status.rawValue),
            "errorReason": errorReason.map(JSONValue.string) ?? .null,
            "progress": .number(Double(progress)),
            "artifacts": .array(
                artifacts.map {
                    .object([
                        "type": .string($0.type.rawValue), "name": .string($0.name), "size": .number(Double($0.size)),
                        links == nil ? "key" : "url": .string(links?.url(for: $0.key, expires: expiredAt) ?? $0.key), "sha256": .string($0.sha256),
                    ])
                }
            ),
            "createdAt": date(createdAt),
            "updatedAt": date(updatedAt),
            "expiredAt": date(expiredAt),
            "finishedAt": date(finishedAt),
        ])
    }
}
