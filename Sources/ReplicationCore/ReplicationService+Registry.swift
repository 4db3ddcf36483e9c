import Foundation
import MapDepotCore

/// replica-server's internal registry operations (replication-anchors §1.4, issue #12), with its texts. They reach
/// replicas MapDepot produced and registered ones alike; a replica being produced is not one yet.
extension ReplicationService {
    /// `POST /replica`: stored hidden whatever the body says.
    public func register(_ registration: ReplicaRegistration) async throws {
        guard try await store.registerReplica(registration.replica) else {
            throw ServiceError(.conflict, "replica with id \(registration.replicaId.uuidString.lowercased()) already exists")
        }
    }

    /// `GET /replica/{replicaId}`: a visible replica (a hidden one is not found, as replica-server answers).
    public func replica(id: UUID) async throws -> Replica {
        guard let replica = try await store.replica(id: id) else { throw Self.notFound(id) }
        return replica
    }

    /// `PATCH /replica/{replicaId}` and `PATCH /replica?…`: 404 for an unknown id; a filter that matches nothing is fine.
    public func update(_ selection: ReplicaSelection, with patch: ReplicaPatch) async throws {
        let selected = try await store.registryReplicas(selection)
        if case .id(let id) = selection, selected.isEmpty { throw Self.notFound(id) }
        try await store.updateRegistryFields(selected.map(patch.applied(to:)))
    }

    /// `DELETE /replica/{replicaId}` and `DELETE /replica?…`: the deleted replicas. Files MapDepot produced go with
    /// them (they are ours to reclaim); a registered replica's objects stay in their producer's bucket, as
    /// replica-server leaves them.
    public func delete(_ selection: ReplicaSelection) async throws -> [Replica] {
        let deleted = try await store.deleteReplicas(selection)
        if case .id(let id) = selection, deleted.isEmpty { throw Self.notFound(id) }
        for replica in deleted where replica.origin == .produced {
            try await artifacts.delete(prefix: ReplicaProducer.keyPrefix(replica))
        }
        return deleted
    }

    /// `POST /replica/{replicaId}/file`.
    public func addFile(_ file: ReplicaFileRegistration, replicaId: UUID) async throws {
        switch try await store.addRegisteredFile(file.fileId, replicaId: replicaId) {
        case .added: return
        case .noSuchReplica: throw Self.notFound(replicaId)
        case .fileIdTaken: throw ServiceError(.conflict, "file with id \(file.fileId.uuidString.lowercased()) already exists")
        }
    }

    static func notFound(_ id: UUID) -> ServiceError {
        ServiceError.notFound("replica with id \(id.uuidString.lowercased()) was not found")
    }
}
