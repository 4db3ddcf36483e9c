import Crypto
import Foundation
import Geometry
import JSONValues
import MapDepotCore

/// A delta over any kept window of a layer's changes, optionally of one area (issue #14 item 4): not part of any chain
/// (never listed by `GET /replica`), made on demand and kept by its window and filter, so the same question asked again
/// is answered by the same files.
public struct WindowDelta: Sendable, Hashable {
    /// SHA-256 of (layer, geometry type, from, to, bbox): what the cache is keyed by.
    public var key: String
    /// This build's id: its files' folder (`replicas/<layer>/<type>/<buildId>/…`), like a replica id.
    public var buildId: UUID
    public var layerId: Int
    public var geometryType: GeometryType
    public var fromChangeSequence: Int
    public var changeSequence: Int
    public var bbox: BoundingBox?
    public var files: [ReplicaFile]
    public var createdAt: Date

    public init(
        key: String, buildId: UUID, layerId: Int, geometryType: GeometryType, fromChangeSequence: Int, changeSequence: Int, bbox: BoundingBox?,
        files: [ReplicaFile], createdAt: Date
    ) {
        self.key = key
        self.buildId = buildId
        self.layerId = layerId
        self.geometryType = geometryType
        self.fromChangeSequence = fromChangeSequence
        self.changeSequence = changeSequence
        self.bbox = bbox
        self.files = files
        self.createdAt = createdAt
    }

    /// Its files' folder, beside its chain's replicas.
    public var keyPrefix: String {
        ReplicaProducer.chainFolder(layerId: layerId, type: geometryType) + "/" + buildId.uuidString.lowercased()
    }

    public static func key(layerId: Int, type: GeometryType, from: Int, to: Int, bbox: BoundingBox?) -> String {
        let box = bbox.map { "\($0.minX),\($0.minY),\($0.maxX),\($0.maxY)" } ?? "-"
        return Hex.encode(Array(SHA256.hash(data: Data("\(layerId)|\(type.rawValue)|\(from)|\(to)|\(box)".utf8))))
    }

    /// `bbox` as stored and answered.
    public static func bboxText(_ bbox: BoundingBox?) -> String? {
        bbox.map { CanonicalJSON.text(.array([$0.minX, $0.minY, $0.maxX, $0.maxY].map(JSONValue.number))) }
    }

    public static func bbox(text: String?) -> BoundingBox? {
        guard let text, let values = try? JSONValue.parse(Data(text.utf8)).arrayValue?.compactMap(\.numberValue), values.count == 4 else { return nil }
        return BoundingBox(minX: values[0], minY: values[1], maxX: values[2], maxY: values[3])
    }

    /// The answer: a replica's shape (`replicaType` delta, `files`, `urls`), its window in sequences and times, the
    /// area, and whether it was made before.
    public func json(links: ReplicaLinks, fromTimestamp: Date?, timestamp: Date?, sourceId: UUID?, cached: Bool) -> JSONValue {
        let files: [JSONValue] = self.files.map {
            .object([
                "url": .string(links.artifacts.url(for: $0.key, expires: nil)), "size": .number(Double($0.size)), "sha256": .string($0.sha256),
                "features": .number(Double($0.features)), "deletions": .number(Double($0.deletions)),
            ])
        }
        return .object([
            "layerId": .number(Double(layerId)), "geometryType": .string(geometryType.rawValue), "replicaType": .string("delta"),
            "fromChangeSequence": .number(Double(fromChangeSequence)), "changeSequence": .number(Double(changeSequence)),
            "fromTimestamp": fromTimestamp.map { .string(Timestamp.string($0)) } ?? .null, "timestamp": timestamp.map { .string(Timestamp.string($0)) } ?? .null,
            "bbox": bbox.map { .array([$0.minX, $0.minY, $0.maxX, $0.maxY].map(JSONValue.number)) } ?? .null,
            "sourceId": sourceId.map { .string($0.uuidString.lowercased()) } ?? .null,
            "files": .array(files), "urls": .array(files.map { $0.objectValue!["url"]! }), "cached": .bool(cached),
        ])
    }
}
