import Foundation
import GeoJSON
import JSONValues
import MapDepotCore

extension Replica {
    /// The contract's replica `{timestamp, layerId, geometryType, replicaType, urls}` plus the additive
    /// `sequenceNumber`, `fromTimestamp`, `changeSequence`, `fromChangeSequence` and `files`. Not `replicaId`: replica-server's
    /// document marks it write-only (issue #12); a file's URL carries it.
    public func json(links: any ArtifactLinks) -> JSONValue {
        .object([
            "timestamp": .string(Timestamp.string(timestamp)),
            "layerId": .number(Double(layerId)),
            "geometryType": .string(geometryType.rawValue),
            "replicaType": .string(replicaType.rawValue),
            "urls": .array(files.map { .string(links.url(for: $0.key, expires: nil)) }),
            "sequenceNumber": .number(Double(sequenceNumber)),
            "fromTimestamp": fromTimestamp.map { .string(Timestamp.string($0)) } ?? .null,
            "changeSequence": .number(Double(changeSequence)),
            "fromChangeSequence": fromChangeSequence.map { .number(Double($0)) } ?? .null,
            "files": .array(
                files.map {
                    .object([
                        "url": .string(links.url(for: $0.key, expires: nil)), "size": .number(Double($0.size)), "sha256": .string($0.sha256),
                        "features": .number(Double($0.features)), "deletions": .number(Double($0.deletions)),
                    ])
                }
            ),
        ])
    }
}
