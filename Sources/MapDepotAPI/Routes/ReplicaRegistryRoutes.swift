import Foundation
import HTTPTypes
import Hummingbird
import JSONValues
import MapDepotCore
import ReplicationCore

/// replica-server v2.0.0's internal registry (`x-internal: true`, replication-anchors §1.4), for producers outside
/// MapDepot: register a replica, add its files, publish it by un-hiding it, patch or delete replicas one by one or by
/// filter. Writes need the admin scope; reading one replica by id needs replication read, as the public listing does.
struct ReplicaRegistryRoutes: Sendable {
    let api: APIContext

    func register(on router: Router<BasicRequestContext>) {
        let replication = api.components.replication
        let links = api.components.replicaLinks
        router.post("replica") { request, _ in
            _ = try await api.principal(request, requiring: .admin)
            try await replication.register(ReplicaRegistration(json: try await api.json(request)))
            return Response(status: .created)
        }
        router.patch("replica") { request, _ in
            _ = try await api.principal(request, requiring: .admin)
            let filter = try ReplicaFilter(parameters: ReplicationRoutes.parameters(request))
            try await replication.update(.filter(filter), with: ReplicaPatch(json: try await api.json(request)))
            return Response(status: .ok)
        }
        router.delete("replica") { request, _ in
            _ = try await api.principal(request, requiring: .admin)
            let filter = try ReplicaFilter(parameters: ReplicationRoutes.parameters(request))
            return JSONResponse.make(.array(try await replication.delete(.filter(filter)).map { $0.json(links: links) }))
        }
        router.get("replica/:replicaId") { request, context in
            _ = try await api.principal(request, requiring: .replicationRead)
            return JSONResponse.make(try await replication.replica(id: try Self.replicaId(context)).json(links: links))
        }
        router.patch("replica/:replicaId") { request, context in
            _ = try await api.principal(request, requiring: .admin)
            let id = try Self.replicaId(context)
            try await replication.update(.id(id), with: ReplicaPatch(json: try await api.json(request)))
            return Response(status: .ok)
        }
        router.delete("replica/:replicaId") { request, context in
            _ = try await api.principal(request, requiring: .admin)
            let deleted = try await replication.delete(.id(try Self.replicaId(context)))
            return JSONResponse.make(deleted[0].json(links: links))
        }
        router.post("replica/:replicaId/file") { request, context in
            _ = try await api.principal(request, requiring: .admin)
            let id = try Self.replicaId(context)
            try await replication.addFile(ReplicaFileRegistration(json: try await api.json(request)), replicaId: id)
            return Response(status: .created)
        }
    }

    /// The path's replica id, refused in replica-server's words.
    static func replicaId(_ context: BasicRequestContext) throws(ServiceError) -> UUID {
        guard let text = context.parameters.get("replicaId"), let id = UUID(formatted: text) else {
            throw .invalid(#"request/params/replicaId must match format "uuid""#)
        }
        return id
    }
}
