import Foundation
import GeoJSON
import JSONValues
import MapDepotCore

extension ReplicaQuery {
    /// Parses `GET /replica` query parameters with replica-server's own validation messages (its OpenAPI
    /// validator's, replication-anchors §1.1): required properties first, in the contract's order
    /// (`geometry_type`, `replica_type`, `layer_id`), then each parameter in declaration order.
    public init(parameters: [String: String], latest: Bool = false) throws(ServiceError) {
        for name in ["geometry_type", "replica_type", "layer_id"] where parameters[name] == nil {
            throw .invalid("request/query must have required property '\(name)'")
        }
        var exclusiveFrom: Date?
        var to: Date?
        var ascending = false
        if !latest {
            if let raw = parameters["exclusive_from"] {
                guard let date = Self.dateTime(raw) else { throw .invalid(#"request/query/exclusive_from must match format "date-time""#) }
                exclusiveFrom = date
            }
            if let raw = parameters["to"] {
                guard let date = Self.dateTime(raw) else { throw .invalid(#"request/query/to must match format "date-time""#) }
                to = date
            }
            if let raw = parameters["sort"] {
                guard raw == "asc" || raw == "desc" else {
                    throw .invalid("request/query/sort must be equal to one of the allowed values: asc, desc")
                }
                ascending = raw == "asc"
            }
        }
        // MapDepot's additions (issue #14), refused in the same words.
        var afterSequence: Int?
        var page: ReplicaPage?
        if !latest {
            if let raw = parameters["after_sequence"] {
                guard let value = Int(raw), value >= 0 else { throw .invalid("request/query/after_sequence must be integer >= 0") }
                guard parameters["sort"] != "desc" else { throw .invalid("request/query/sort: after_sequence lists in sequence order (asc)") }
                afterSequence = value
            }
            var limit: Int?
            if let raw = parameters["limit"] {
                guard let value = Int(raw) else { throw .invalid("request/query/limit must be integer") }
                guard value >= 1 else { throw .invalid("request/query/limit must be >= 1") }
                guard value <= ReplicaPage.maxLimit else { throw .invalid("request/query/limit must be <= \(ReplicaPage.maxLimit)") }
                limit = value
            }
            var after: ReplicaCursor?
            if let raw = parameters["cursor"] {
                guard let cursor = ReplicaCursor(text: raw) else { throw .invalid("request/query/cursor is not a cursor this server gave out") }
                after = cursor
            }
            if limit != nil || after != nil { page = ReplicaPage(limit: limit ?? ReplicaPage.defaultLimit, after: after) }
        }
        guard let geometryType = GeometryType(rawValue: parameters["geometry_type"]!) else {
            throw .invalid("request/query/geometry_type must be equal to one of the allowed values: point, linestring, polygon")
        }
        guard let replicaType = ReplicaType(rawValue: parameters["replica_type"]!) else {
            throw .invalid("request/query/replica_type must be equal to one of the allowed values: snapshot, delta")
        }
        guard let layer = Double(parameters["layer_id"]!), layer.isFinite else {
            throw .invalid("request/query/layer_id must be number")
        }
        // A fractional or out-of-range layer id matches no layer (the contract's type is `number`).
        let layerId = layer.rounded() == layer && abs(layer) < 1e15 ? Int(layer) : -1
        self.init(
            layerId: layerId, geometryType: geometryType, replicaType: replicaType, exclusiveFrom: exclusiveFrom, to: to,
            ascending: ascending || afterSequence != nil, layerText: parameters["layer_id"]
        )
        self.afterSequence = afterSequence
        self.page = page
    }

    /// RFC 3339 date-time (``Timestamp/rfc3339(_:)``).
    static func dateTime(_ text: String) -> Date? { Timestamp.rfc3339(text) }
}

/// A `POST /layers/{layerId}/replicas` body: `{replicaType, geometryType}`.
public struct ReplicaOrder: Sendable, Hashable {
    public var replicaType: ReplicaType
    public var geometryType: GeometryType

    public init(json: JSONValue) throws(ServiceError) {
        let reader = try JSONObjectReader(json, path: "", allowed: ["replicaType", "geometryType"])
        guard let replicaType = try reader.oneOf("replicaType", ReplicaType.self) else { throw .invalid("replicaType is required") }
        guard let geometryType = try reader.oneOf("geometryType", GeometryType.self) else { throw .invalid("geometryType is required") }
        self.replicaType = replicaType
        self.geometryType = geometryType
    }
}
