import Foundation
import GeoJSON
import HTTPTypes
import Hummingbird
import JSONValues
import MapDepotCore
import ReplicationCore
import ServiceLifecycle
import NIOCore

/// The replica-server v2.0.0 public routes (`/layers`, `/replica`, `/replica/latest`, replication-anchors
/// §1.3) plus MapDepot's layer management, change ingestion and on-demand production.
struct ReplicationRoutes: Sendable {
    let api: APIContext

    func register(on router: Router<BasicRequestContext>) {
        let replication = api.components.replication
        router.get("layers") { request, _ in
            _ = try await api.principal(request, requiring: .replicationRead)
            return JSONResponse.make(.array(try await replication.layers().map(\.json)))
        }
        router.post("layers") { request, _ in
            _ = try await api.principal(request, requiring: .admin)
            let layer = try await replication.createLayer(LayerDraft(json: try await api.json(request)))
            return JSONResponse.make(layer.json, status: .created)
        }
        router.post("layers/:layerId/changes") { request, context in
            _ = try await api.principal(request, requiring: .replicationWrite)
            let layerId = try context.parameters.integer("layerId")
            let layer = try await replication.layer(id: layerId)
            let result = try await replication.apply(try await changeSet(request, layer: layer), layerId: layerId)
            return JSONResponse.make(result.json, status: .ok)
        }
        router.post("layers/:layerId/replicas") { request, context in
            _ = try await api.principal(request, requiring: .replicationWrite)
            let layerId = try context.parameters.integer("layerId")
            let order = try ReplicaOrder(json: try await api.json(request))
            let replica = try await replication.produce(layerId: layerId, geometryType: order.geometryType, replicaType: order.replicaType)
            return JSONResponse.make(replica.json(links: api.components.replicaLinks), status: .created)
        }
        router.get("replica") { request, _ in
            _ = try await api.principal(request, requiring: .replicationRead)
            let query = try ReplicaQuery(parameters: Self.parameters(request))
            let (replicas, next) = try await keptHistory { try await replication.replicaPage(query) }
            var response = JSONResponse.make(.array(replicas.map { $0.json(links: api.components.replicaLinks) }))
            if let next { response.headers[HTTPField.Name("Link")!] = "<\(Self.nextPage(request, cursor: next.text))>; rel=\"next\"" }
            return response
        }
        router.post("layers/:layerId/deltas") { request, context in
            _ = try await api.principal(request, requiring: .replicationRead)
            let layerId = try context.parameters.integer("layerId")
            let window = try WindowRequest(json: try await api.json(request))
            let answer = try await keptHistory { try await replication.windowDelta(layerId: layerId, window) }
            let json = answer.delta.json(
                links: api.components.replicaLinks, fromTimestamp: answer.fromTimestamp, timestamp: answer.timestamp, sourceId: answer.sourceId,
                cached: answer.cached
            )
            return JSONResponse.make(json, status: answer.cached ? .ok : .created)
        }
        router.post("layers/:layerId/subscriptions") { request, context in
            let principal = try await api.principal(request, requiring: .replicationRead)
            let subscription = try await replication.subscribe(
                try await api.json(request), layerId: try context.parameters.integer("layerId"), subscriber: principal.subject
            )
            return JSONResponse.make(subscription.json, status: .created)
        }
        router.get("layers/:layerId/subscriptions") { request, context in
            let principal = try await api.principal(request, requiring: .replicationRead)
            let subscriptions = try await replication.subscriptions(layerId: try context.parameters.integer("layerId"), subscriber: principal.subject)
            return JSONResponse.make(.array(subscriptions.map(\.json)))
        }
        router.delete("layers/:layerId/subscriptions/:subscriptionId") { request, context in
            let principal = try await api.principal(request, requiring: .replicationRead)
            let raw = context.parameters.get("subscriptionId") ?? ""
            guard let id = UUID(formatted: raw) else { throw ServiceError.notFound("subscription \(raw) was not found") }
            try await replication.unsubscribe(id: id, layerId: try context.parameters.integer("layerId"), subscriber: principal.subject)
            return Response(status: .noContent)
        }
        router.get("layers/:layerId/events") { request, context in
            _ = try await api.principal(request, requiring: .replicationRead)
            let layer = try await replication.layer(id: try context.parameters.integer("layerId"))
            // Only what is published from now on: the newest number of every chain when the client connected.
            let seen = try await replication.chainHeads(of: layer)
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                body: ResponseBody { [seen] writer in
                    try await Self.stream(layer, from: seen, replication: replication, links: api.components.replicaLinks, clock: api.components.clock, writer: &writer)
                }
            )
        }
        router.get("replica/latest") { request, _ in
            _ = try await api.principal(request, requiring: .replicationRead)
            let query = try ReplicaQuery(parameters: Self.parameters(request), latest: true)
            return JSONResponse.make(try await replication.latest(query).json(links: api.components.replicaLinks))
        }
    }

    /// Server-Sent Events of a layer's publications (issue #14 item 5): a `replica` event with the replica, as `GET
    /// /replica` lists it, whenever one is published, in sequence order per chain; the event id is
    /// `<geometry type>/<replica type>/<sequence>`. The store is polled every 250 ms, so events come from whichever node
    /// published; a comment line goes out after `heartbeat` of silence, so a client that left is found and proxies keep
    /// the stream open (as the export task stream does).
    static func stream(
        _ layer: Layer, from start: [String: Int], replication: ReplicationService, links: ReplicaLinks, clock: any WallClock,
        writer: inout any ResponseBodyWriter, heartbeat: Duration = .seconds(15)
    ) async throws {
        var seen = start
        var lastWrite = clock.now()
        try await writer.write(ByteBuffer(string: ": layer \(layer.layerId)\n\n"))
        while !Task.isShuttingDownGracefully {
            var wrote = false
            for type in layer.geometryTypes {
                for replicaType in ReplicaType.allCases {
                    let chain = ReplicationService.chain(type, replicaType)
                    var query = ReplicaQuery(layerId: layer.layerId, geometryType: type, replicaType: replicaType, ascending: true)
                    query.afterSequence = seen[chain] ?? 0
                    query.page = ReplicaPage(limit: 100, after: nil)
                    for replica in try await replication.replicaPage(query).replicas {
                        let text = "event: replica\nid: \(chain)/\(replica.sequenceNumber)\ndata: \(CanonicalJSON.text(replica.json(links: links)))\n\n"
                        try await writer.write(ByteBuffer(string: text))
                        seen[chain] = replica.sequenceNumber
                        wrote = true
                    }
                }
            }
            if wrote {
                lastWrite = clock.now()
            } else if clock.now().timeIntervalSince(lastWrite) >= heartbeat.seconds {
                try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                lastWrite = clock.now()
            }
            try await clock.sleep(for: .milliseconds(250))
        }
        try await writer.finish(nil)
    }

    /// History older than retention kept: 410 with the latest snapshot to start again from (issue #14).
    func keptHistory<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let gone as ReplicaHistoryGone {
            let snapshot = gone.latestSnapshot?.json(links: api.components.replicaLinks) ?? .null
            throw ServiceError(.gone, gone.message, details: ["latestSnapshot": snapshot])
        }
    }

    /// The request's own path and query with `cursor` set to the next page's (issue #14: `Link: rel="next"`).
    static func nextPage(_ request: Request, cursor: String) -> String {
        var components = URLComponents()
        components.path = request.uri.path
        components.queryItems = request.uri.queryParameters.filter { $0.key != "cursor" }.map { URLQueryItem(name: String($0.key), value: String($0.value)) }
            + [URLQueryItem(name: "cursor", value: cursor)]
        return components.string ?? request.uri.path
    }

    /// Query parameters; the first value of a repeated one.
    static func parameters(_ request: Request) -> [String: String] {
        var result: [String: String] = [:]
        for (key, value) in request.uri.queryParameters where result[String(key)] == nil {
            result[String(key)] = String(value)
        }
        return result
    }
}
