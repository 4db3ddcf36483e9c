import ExportCore
import Foundation
import Hummingbird
import JSONValues
import MapDepotCore

/// exporter-trigger v3.2.1's internal API (export-anchors §1.2), scope `export:trigger`: the same jobs, dedup and
/// webhooks as `/export-tasks`, in the trigger's shapes. Its answers are 200 whatever happened (new job, duplicate,
/// cache hit), as the trigger answers.
struct TriggerRoutes: Sendable {
    let api: APIContext

    func register(on router: Router<BasicRequestContext>) {
        let exports = api.components.exports
        let links = api.components.links
        router.post("export") { request, _ in
            let principal = try await api.principal(request, requiring: .exportTrigger)
            let (task, outcome) = try await exports.trigger(TriggerRequest(json: try await api.json(request)), customer: principal.subject)
            return JSONResponse.make(task.triggerAnswer(outcome: outcome, links: links))
        }
        router.get("export/:jobId/status") { request, context in
            let principal = try await api.principal(request, requiring: .exportTrigger)
            let jobId = context.parameters.get("jobId") ?? ""
            guard UUID(formatted: jobId) != nil else {
                throw ServiceError.invalid(#"request/params/jobId must match format "uuid""#)
            }
            return JSONResponse.make(try await exports.triggerTask(jobId: jobId, customer: principal.subject).triggerStatusJSON)
        }
        router.get("storage") { request, _ in
            _ = try await api.principal(request, requiring: .exportTrigger)
            let volume = try exports.volume()
            return JSONResponse.make(.object(["free": .number(Double(volume.free)), "size": .number(Double(volume.size))]))
        }
    }
}
