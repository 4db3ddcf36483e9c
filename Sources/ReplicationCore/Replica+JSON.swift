import Foundation
import GeoJSON
import JSONValues
import MapDepotCore

extension Replica {
    /// The contract's replica `{timestamp, layerId, geometryType, replicaType, urls}` plus the additive
    /// `sequenceNumber` and `files`, and for replicas MapDepot produced `fromTimestamp`, `changeSequence` and
    /// `fromChangeSequence`. Not `replicaId`, `bucketName` or `isHidden`: replica-server's document marks the first two
    /// write-only and never answers the third (issue #12); a produced file's URL carries the id.
    ///
    /// Without links (the stored form of a webhook body, ``ReplicaNotice``), produced files carry their artifact `key`
    /// instead of `url`, and there are no `urls`: the webhook dispatcher adds them on sending.
    public func json(links: ReplicaLinks?) -> JSONValue {
        var object: [String: JSONValue] = [
            "timestamp": .string(Timestamp.string(timestamp)),
            "layerId": .number(Double(layerId)),
            "geometryType": .string(geometryType.rawValue),
            "replicaType": .string(replicaType.rawValue),
            "sequenceNumber": .number(Double(sequenceNumber)),
            "sourceId": sourceId.map { .string($0.uuidString.lowercased()) } ?? .null,
        ]
        var files: [JSONValue] = self.files.map { file in
            var fields: [String: JSONValue] = [
                "size": .number(Double(file.size)), "sha256": .string(file.sha256),
                "features": .number(Double(file.features)), "deletions": .number(Double(file.deletions)),
            ]
            if let links {
                fields["url"] = .string(links.artifacts.url(for: file.key, expires: nil))
            } else {
                fields["key"] = .string(file.key)
            }
            return .object(fields)
        }
        switch origin {
        case .produced:
            object["fromTimestamp"] = fromTimestamp.map { .string(Timestamp.string($0)) } ?? .null
            object["changeSequence"] = .number(Double(changeSequence))
            object["fromChangeSequence"] = fromChangeSequence.map { .number(Double($0)) } ?? .null
            object["layerHash"] = layerHash.map(JSONValue.string) ?? .null
            let linked = linkedSequence.map { JSONValue.number(Double($0)) } ?? .null
            object[replicaType == .delta ? "snapshotSequenceNumber" : "deltaSequenceNumber"] = linked
        case .registered:
            guard let links else { break }
            let bucket = bucketName ?? ""
            files += registeredFiles.map { fileId in
                .object([
                    "url": .string(links.objectStorage.url(bucket: bucket, layerId: layerId, geometryType: geometryType, fileId: fileId)),
                    "fileId": .string(fileId.uuidString.lowercased()),
                ])
            }
        }
        if links != nil { object["urls"] = .array(files.map { $0.objectValue!["url"]! }) }
        object["files"] = .array(files)
        return .object(object)
    }
}
