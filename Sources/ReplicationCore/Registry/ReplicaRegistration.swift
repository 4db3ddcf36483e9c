import Foundation
import JSONValues
import MapDepotCore

/// A `POST /replica` body (replica-server `postReplica`): a replica made by a producer outside MapDepot, whose files
/// live in that producer's bucket. It is stored hidden, whatever the body says (replica-server
/// `replicaManager.createReplica`), and appears in listings after `PATCH … {isHidden: false}`.
public struct ReplicaRegistration: Sendable, Hashable {
    public var replicaId: UUID
    public var layerId: Int
    public var geometryType: GeometryType
    public var replicaType: ReplicaType
    public var bucketName: String
    public var timestamp: Date

    public init(replicaId: UUID, layerId: Int, geometryType: GeometryType, replicaType: ReplicaType, bucketName: String, timestamp: Date) {
        self.replicaId = replicaId
        self.layerId = layerId
        self.geometryType = geometryType
        self.replicaType = replicaType
        self.bucketName = bucketName
        self.timestamp = timestamp
    }

    /// Required members first, in the contract's order, then each member in the schema's order.
    public init(json: JSONValue) throws(ServiceError) {
        let body = try RegistryValidation.body(json)
        for name in ["replicaId", "replicaType", "geometryType", "layerId", "bucketName", "timestamp"] where body[name] == nil {
            throw .invalid("request/body must have required property '\(name)'")
        }
        timestamp = try RegistryValidation.dateTime(body["timestamp"]!, at: "request/body/timestamp")
        layerId = try RegistryValidation.layerId(body["layerId"]!, at: "request/body/layerId")
        geometryType = try RegistryValidation.oneOf(body["geometryType"]!, GeometryType.self, at: "request/body/geometryType")
        bucketName = try RegistryValidation.bucketName(body["bucketName"]!, at: "request/body/bucketName")
        replicaType = try RegistryValidation.oneOf(body["replicaType"]!, ReplicaType.self, at: "request/body/replicaType")
        replicaId = try RegistryValidation.uuid(body["replicaId"]!, at: "request/body/replicaId")
    }

    /// The replica as stored: hidden, no files yet, numbered by the store.
    public var replica: Replica {
        Replica(
            replicaId: replicaId, layerId: layerId, geometryType: geometryType, replicaType: replicaType, sequenceNumber: 0, timestamp: timestamp,
            fromTimestamp: nil, changeSequence: 0, fromChangeSequence: nil, files: [], origin: .registered, bucketName: bucketName,
            isHidden: true
        )
    }
}

/// A `PATCH /replica…` body (replica-server `replicaMetadata`): any subset of the replica's fields, `isHidden`
/// included. Applied the same way to replicas MapDepot produced and to registered ones.
public struct ReplicaPatch: Sendable, Hashable {
    public var timestamp: Date?
    public var layerId: Int?
    public var geometryType: GeometryType?
    public var bucketName: String?
    public var replicaType: ReplicaType?
    public var isHidden: Bool?

    public init(
        timestamp: Date? = nil, layerId: Int? = nil, geometryType: GeometryType? = nil, bucketName: String? = nil, replicaType: ReplicaType? = nil,
        isHidden: Bool? = nil
    ) {
        self.timestamp = timestamp
        self.layerId = layerId
        self.geometryType = geometryType
        self.bucketName = bucketName
        self.replicaType = replicaType
        self.isHidden = isHidden
    }

    public init(json: JSONValue) throws(ServiceError) {
        let body = try RegistryValidation.body(json)
        timestamp = try body["timestamp"].map { value throws(ServiceError) in try RegistryValidation.dateTime(value, at: "request/body/timestamp") }
        layerId = try body["layerId"].map { value throws(ServiceError) in try RegistryValidation.layerId(value, at: "request/body/layerId") }
        geometryType = try body["geometryType"].map { value throws(ServiceError) in
            try RegistryValidation.oneOf(value, GeometryType.self, at: "request/body/geometryType")
        }
        bucketName = try body["bucketName"].map { value throws(ServiceError) in try RegistryValidation.bucketName(value, at: "request/body/bucketName") }
        replicaType = try body["replicaType"].map { value throws(ServiceError) in
            try RegistryValidation.oneOf(value, ReplicaType.self, at: "request/body/replicaType")
        }
        isHidden = try body["isHidden"].map { value throws(ServiceError) in try RegistryValidation.bool(value, at: "request/body/isHidden") }
    }

    /// The replica with the patch applied. A replica MapDepot produced keeps its files and change range: they are
    /// what it holds, whatever it is filed under.
    public func applied(to replica: Replica) -> Replica {
        var result = replica
        if let timestamp { result.timestamp = timestamp }
        if let layerId { result.layerId = layerId }
        if let geometryType { result.geometryType = geometryType }
        if let bucketName { result.bucketName = bucketName }
        if let replicaType { result.replicaType = replicaType }
        if let isHidden { result.isHidden = isHidden }
        // Moved to another chain: numbered again there when visible (0 = not numbered yet).
        if (result.layerId, result.geometryType, result.replicaType) != (replica.layerId, replica.geometryType, replica.replicaType) {
            result.sequenceNumber = 0
        }
        return result
    }
}

/// A `POST /replica/{replicaId}/file` body: `{fileId}`, a UUID unique across every replica.
public struct ReplicaFileRegistration: Sendable, Hashable {
    public var fileId: UUID

    public init(json: JSONValue) throws(ServiceError) {
        let body = try RegistryValidation.body(json)
        guard let value = body["fileId"] else { throw .invalid("request/body must have required property 'fileId'") }
        fileId = try RegistryValidation.uuid(value, at: "request/body/fileId")
    }
}
