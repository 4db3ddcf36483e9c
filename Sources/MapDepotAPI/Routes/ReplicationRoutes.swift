import Foundation
import GeoJSON
import HTTPTypes
import Hummingbird
import JSONValues
import MapDepotCore
import ReplicationCore

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
            let result = try await replication.applyChanges(try ChangeRequest(json: try await api.json(request)), layerId: layerId)
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
        router.get("replica/latest") { request, _ in
            _ = try await api.principal(request, requiring: .replicationRead)
            let query = try ReplicaQuery(parameters: Self.parameters(request), latest: true)
            return JSONResponse.make(try await replication.latest(query).json(links: api.components.replicaLinks))
        }
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
