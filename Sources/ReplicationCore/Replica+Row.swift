import Foundation
import MapDepotCore

// The replication tables' rows, read the same way by every backend (issue #10); a value no writer of ours produces
// throws ``CorruptRow`` instead of decoding into another valid value.

extension Layer {
    public init(row: some StoredRow) throws {
        let text = try row.string("geometry_types")
        let types = try text.split(separator: ",").map { name in
            guard let type = GeometryType(rawValue: String(name)) else { throw CorruptRow(table: row.table, column: "geometry_types", value: text) }
            return type
        }
        self.init(
            layerId: try row.int("layer_id"), layerName: try row.string("layer_name"), geometryTypes: types, createdAt: try row.date("created_at"),
            lastSequence: try row.int("last_sequence"), sourceId: try row.uuid("source_id")
        )
        historyFrom = try row.optionalInt("history_from") ?? 0
    }
}

extension Replica {
    public init(row: some StoredRow) throws {
        self.init(
            replicaId: try row.uuid("replica_id"), layerId: try row.int("layer_id"), geometryType: try row.value("geometry_type"),
            replicaType: try row.value("replica_type"), sequenceNumber: try row.int("sequence_number"), timestamp: try row.date("timestamp"),
            fromTimestamp: try row.optionalDate("from_timestamp"), changeSequence: try row.int("change_sequence"),
            fromChangeSequence: try row.optionalInt("from_change_sequence"), files: try ReplicaFile.list(stored: try row.string("files")),
            origin: try row.value("origin"), bucketName: try row.optionalString("bucket_name"), isHidden: try row.bool("is_hidden"),
            sourceId: try row.optionalString("source_id").flatMap(UUID.init(uuidString:))
        )
        layerHash = try row.optionalString("layer_hash")
        linkedSequence = try row.optionalInt("linked_sequence")
    }
}

extension WindowDelta {
    public init(row: some StoredRow) throws {
        self.init(
            key: try row.string("key"), buildId: try row.uuid("build_id"), layerId: try row.int("layer_id"), geometryType: try row.value("geometry_type"),
            fromChangeSequence: try row.int("from_change_sequence"), changeSequence: try row.int("change_sequence"),
            bbox: WindowDelta.bbox(text: try row.optionalString("bbox")), files: try ReplicaFile.list(stored: try row.string("files")),
            createdAt: try row.date("created_at")
        )
    }
}
