import Foundation
import MapDepotCore

/// Where registered replicas' files are: the object store their producer uploaded them to. A file's URL is built as
/// replica-server builds it (replication-anchors §1.5): `<protocol>://<host>:<port>/<bucket>/<layerId>/<geometryType>/<fileId>`,
/// the bucket written `<projectId>:<bucket>` when a project is configured (Ceph RGW tenant addressing). Plain URLs:
/// the producer's store decides who may read them.
public struct ObjectStorageEndpoint: Sendable, Hashable {
    public var scheme: String
    public var host: String
    public var port: Int
    public var projectId: String?

    /// replica-server's defaults (`objectStorage.port` 9000).
    public init(scheme: String = "http", host: String = "localhost", port: Int = 9000, projectId: String? = nil) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.projectId = projectId
    }

    public func url(bucket: String, layerId: Int, geometryType: GeometryType, fileId: UUID) -> String {
        let bucketPath = projectId.map { "\($0):\(bucket)" } ?? bucket
        return "\(scheme)://\(host):\(port)/\(bucketPath)/\(layerId)/\(geometryType.rawValue)/\(fileId.uuidString.lowercased())"
    }
}

/// How a replica's files are reached: produced ones from MapDepot's artifact store, registered ones from their
/// producer's object store.
public struct ReplicaLinks: Sendable {
    public var artifacts: any ArtifactLinks
    public var objectStorage: ObjectStorageEndpoint

    public init(artifacts: any ArtifactLinks, objectStorage: ObjectStorageEndpoint) {
        self.artifacts = artifacts
        self.objectStorage = objectStorage
    }
}
