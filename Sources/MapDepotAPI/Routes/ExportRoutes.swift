import ExportCore
import Foundation
import GeoJSON
import HTTPTypes
import Hummingbird
import JSONValues
import MapDepotCore
import NIOCore
import ServiceLifecycle

/// The MapColonies Export-Management v1.7.0 routes (export-anchors §1.1) plus MapDepot's extensions:
/// estimate, pause/resume/abort/archive, webhook deliveries and live progress.
struct ExportRoutes: Sendable {
    let api: APIContext

    func register(on router: Router<BasicRequestContext>) {
        let exports = api.components.exports
        let links = api.components.links
        router.post("export-tasks") { request, _ in
            let principal = try await api.principal(request, requiring: .export)
            let exportRequest = try ExportRequest(json: try await api.json(request))
            let (task, _) = try await exports.create(exportRequest, customer: principal.subject)
            return JSONResponse.make(task.json(links: links), status: .created)
        }
        router.post("export-tasks/estimate") { request, _ in
            _ = try await api.principal(request, requiring: .export)
            let estimate = try await exports.estimate(ExportRequest(json: try await api.json(request)))
            let storage = try await exports.storage()
            return JSONResponse.make(
                .object([
                    // MapDepot's extension: what the artifact store can still take, as admission counts it.
                    "freeStorage": .number(Double(storage.available)),
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
            var status: TaskStatus?
            if let raw = request.uri.queryParameters.get("status") {
                guard let value = TaskStatus(rawValue: raw) else {
                    throw ServiceError.invalid("status must be one of \(TaskStatus.allCases.map(\.rawValue).joined(separator: ", ")), found \"\(raw)\"")
                }
                status = value
            }
            let tasks = try await exports.tasks(customer: principal.subject, limit: limit, status: status)
            return JSONResponse.make(.array(tasks.map { $0.json(links: links) }))
        }
        router.get("export-tasks/:id") { request, context in
            let principal = try await api.principal(request, requiring: .export)
            let task = try await exports.task(id: try context.parameters.integer("id"), customer: principal.subject)
            return JSONResponse.make(task.json(links: links))
        }
        for action in [ExportService.Control.pause, .resume, .abort, .archive] {
            router.post("export-tasks/:id/\(action.rawValue)") { request, context in
                let principal = try await api.principal(request, requiring: .export)
                let task = try await exports.control(action, id: try context.parameters.integer("id"), customer: principal.subject)
                return JSONResponse.make(task.json(links: links))
            }
        }
        router.get("export-tasks/:id/webhooks") { request, context in
            let principal = try await api.principal(request, requiring: .export)
            let deliveries = try await exports.deliveries(id: try context.parameters.integer("id"), customer: principal.subject)
            return JSONResponse.make(.array(deliveries.map(\.json)))
        }
        router.get("export-tasks/:id/events") { request, context in
            let principal = try await api.principal(request, requiring: .export)
            let id = try context.parameters.integer("id")
            let first = try await exports.task(id: id, customer: principal.subject)
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                body: ResponseBody { writer in
                    try await Self.stream(first, exports: exports, customer: principal.subject, links: links, clock: api.components.clock, writer: &writer)
                }
            )
        }
    }

    /// Server-Sent Events: a `task` event with the task whenever its status or progress changes, until it
    /// ends (COMPLETED, FAILED, ABORTED, EXPIRED, ARCHIVED). The store is polled (every 250 ms, one read per task for
    /// every stream of it: ``ExportService/polledTask(id:customer:)``), so events come from whichever process does the
    /// work.
    ///
    /// A comment line goes out when nothing else has for `heartbeat`: a client that left is found by the failed
    /// write, so its handler stops polling (issue #9: handlers of paused tasks polled forever, sockets in
    /// CLOSE_WAIT), and proxies keep the stream open. The stream ends when the server shuts down gracefully;
    /// EventSource clients reconnect by themselves.
    static func stream(
        _ first: ExportTask, exports: ExportService, customer: String, links: any ArtifactLinks, clock: any WallClock,
        writer: inout any ResponseBodyWriter, heartbeat: Duration = .seconds(15)
    ) async throws {
        var task = first
        var sent: (TaskStatus, Int)?
        var lastWrite = clock.now()
        while !Task.isShuttingDownGracefully {
            if sent == nil || sent! != (task.status, task.progress) {
                let text = "event: task\nid: \(task.id)-\(task.status.rawValue)-\(task.progress)\ndata: \(CanonicalJSON.text(task.json(links: links)))\n\n"
                try await writer.write(ByteBuffer(string: text))
                sent = (task.status, task.progress)
                lastWrite = clock.now()
            } else if clock.now().timeIntervalSince(lastWrite) >= heartbeat.seconds {
                try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                lastWrite = clock.now()
            }
            if task.status.isFinished { break }
            try await clock.sleep(for: .milliseconds(250))
            task = try await exports.polledTask(id: task.id, customer: customer)
        }
        try await writer.finish(nil)
    }
}
