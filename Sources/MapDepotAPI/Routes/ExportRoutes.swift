import ExportCore
import MapDepotCore
import Foundation
import GeoJSON
import Hummingbird

/// The MapColonies Export-Management v1.7.0 routes (export-anchors §1.1) plus the estimate extension.
struct ExportRoutes: Sendable {
    let api: APIContext

    func register(on router: Router<BasicRequestContext>) {
        let exports = api.components.exports
        router.post("export-tasks") { request, _ in
            let principal = try await api.principal(request, requiring: .export)
            let exportRequest = try ExportRequest(json: try await api.json(request))
            let task = try await exports.create(exportRequest, customer: principal.subject)
            return JSONResponse.make(task.json(api: api), status: .created)
        }
        router.post("export-tasks/estimate") { request, _ in
            _ = try await api.principal(request, requiring: .export)
            let estimate = try await exports.estimate(ExportRequest(json: try await api.json(request)))
            return JSONResponse.make(
                .object([
                    "tiles": .number(Double(estimate.tiles)),
                    "estimatedSize": .number(Double(estimate.bytes)),
                    "estimatedTime": .number(Double(estimate.seconds)),
                    "tilesPerZoom": .object(
                        Dictionary(uniqueKeysWithValues: estimate.tilesPerZoom.map { ("\($0.key)", .number(Double($0.value))) })
                    ),
                ])
            )
        }
        router.get("export-tasks") { request, _ in
            let principal = try await api.principal(request, requiring: .export)
            var limit: Int?
            if let raw = request.uri.queryParameters.get("limit") {
                guard let value = Int(raw) else { throw ServiceError.invalid("limit must be an integer, found \"\(raw)\"") }
                limit = value
            }
            let tasks = try await exports.tasks(customer: principal.subject, limit: limit)
            return JSONResponse.make(.array(tasks.map { $0.json(api: api) }))
        }
        router.get("export-tasks/:id") { request, context in
            let principal = try await api.principal(request, requiring: .export)
            let task = try await exports.task(id: try context.parameters.integer("id"), customer: principal.subject)
            return JSONResponse.make(task.json(api: api))
        }
    }
}

extension ExportTask {
    /// The task as the contract's TaskResponse (export-anchors §1.1), with artifact keys turned into URLs.
    func json(api: APIContext) -> JSONValue {
        func date(_ value: Date?) -> JSONValue { value.map { .string(Timestamp.string($0)) } ?? .null }
        return .object([
            "id": .number(Double(id)),
            "catalogRecordID": .string(catalogRecordID.uuidString.lowercased()),
            "domain": .string(domain.rawValue),
            "ROI": roi,
            "artifactCRS": .string(artifactCRS),
            "description": description.map(JSONValue.string) ?? .null,
            "keywords": keywords ?? .null,
            "parameters": parameters ?? .null,
            "webhooks": .array(webhooks.map(\.json)),
            "estimatedSize": .number(Double(estimatedSize)),
            "estimatedTime": .number(Double(estimatedTime)),
            "status": .string(status.rawValue),
            "errorReason": errorReason.map(JSONValue.string) ?? .null,
            "progress": .number(Double(progress)),
            "artifacts": .array(
                artifacts.map {
                    .object([
                        "type": .string($0.type.rawValue), "name": .string($0.name), "size": .number(Double($0.size)),
                        "url": .string(api.url(for: $0.key)), "sha256": .string($0.sha256),
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
