import Foundation
import JSONValues
import MapDepotCore
import ReplicationCore

/// A replica as the server lists it (`GET /replica`, `GET /replica/latest`): the members a mirror needs.
public struct RemoteReplica: Sendable, Hashable {
    public struct File: Sendable, Hashable {
        public var url: String
        public var size: Int64?
        public var sha256: String?
    }

    public var replicaType: ReplicaType
    public var sequenceNumber: Int
    public var timestamp: Date
    public var sourceId: UUID?
    /// Nil for a registered replica (it covers no change of the server's log: a mirror skips it).
    public var changeSequence: Int?
    public var fromChangeSequence: Int?
    public var layerHash: String?
    /// A delta's `snapshotSequenceNumber`, a snapshot's `deltaSequenceNumber`.
    public var linkedSequence: Int?
    public var files: [File]

    public var totalBytes: Int64 { files.reduce(0) { $0 + ($1.size ?? 0) } }

    public init(json: JSONValue) throws(SyncError) {
        guard let object = json.objectValue,
            let type = object["replicaType"]?.stringValue.flatMap(ReplicaType.init(rawValue:)),
            let sequence = object["sequenceNumber"]?.numberValue,
            let stamp = object["timestamp"]?.stringValue.flatMap(Timestamp.rfc3339)
        else { throw SyncError.protocolViolation("the server's replica is not one MapDepot describes: \(CanonicalJSON.text(json).prefix(200))") }
        replicaType = type
        sequenceNumber = Int(sequence)
        timestamp = stamp
        sourceId = object["sourceId"]?.stringValue.flatMap(UUID.init(uuidString:))
        changeSequence = object["changeSequence"]?.numberValue.map { Int($0) }
        fromChangeSequence = object["fromChangeSequence"]?.numberValue.map { Int($0) }
        layerHash = object["layerHash"]?.stringValue
        linkedSequence = (object[type == .delta ? "snapshotSequenceNumber" : "deltaSequenceNumber"]?.numberValue).map { Int($0) }
        files = (object["files"]?.arrayValue ?? []).compactMap { file in
            guard let url = file.objectValue?["url"]?.stringValue else { return nil }
            return File(url: url, size: file.objectValue?["size"]?.numberValue.map { Int64($0) }, sha256: file.objectValue?["sha256"]?.stringValue)
        }
    }
}
