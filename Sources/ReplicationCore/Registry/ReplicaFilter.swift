import Foundation
import MapDepotCore

/// Which replicas a bulk `PATCH /replica` or `DELETE /replica` touches (replica-server `filterOptions`, sent
/// form-exploded: `?layer_id=3&is_hidden=true`): equality on each given field, `exclusive_from` strict, `to`
/// inclusive, as `GET /replica` filters. At least one field; no other parameter.
public struct ReplicaFilter: Sendable, Hashable {
    public var replicaType: ReplicaType?
    public var geometryType: GeometryType?
    public var layerId: Int?
    public var isHidden: Bool?
    public var exclusiveFrom: Date?
    public var to: Date?

    public init(
        replicaType: ReplicaType? = nil, geometryType: GeometryType? = nil, layerId: Int? = nil, isHidden: Bool? = nil, exclusiveFrom: Date? = nil,
        to: Date? = nil
    ) {
        self.replicaType = replicaType
        self.geometryType = geometryType
        self.layerId = layerId
        self.isHidden = isHidden
        self.exclusiveFrom = exclusiveFrom
        self.to = to
    }

    static let names = ["replica_type", "geometry_type", "layer_id", "is_hidden", "exclusive_from", "to"]

    /// - Parameter parameters: the query; `token` (MapDepot's credential) is not part of the filter.
    public init(parameters: [String: String]) throws(ServiceError) {
        if let unknown = parameters.keys.sorted().first(where: { !Self.names.contains($0) && $0 != "token" }) {
            throw .invalid("Unknown query parameter '\(unknown)'")
        }
        guard Self.names.contains(where: { parameters[$0] != nil }) else {
            throw .invalid("request/query/filter must NOT have fewer than 1 properties")
        }
        let path = "request/query/filter"
        replicaType = try parameters["replica_type"].map { text throws(ServiceError) in
            try RegistryValidation.oneOf(text, ReplicaType.self, at: "\(path)/replica_type")
        }
        geometryType = try parameters["geometry_type"].map { text throws(ServiceError) in
            try RegistryValidation.oneOf(text, GeometryType.self, at: "\(path)/geometry_type")
        }
        layerId = try parameters["layer_id"].map { text throws(ServiceError) in
            guard let number = Double(text), number.isFinite else { throw .invalid("\(path)/layer_id must be number") }
            return try RegistryValidation.layerId(number, at: "\(path)/layer_id")
        }
        isHidden = try parameters["is_hidden"].map { text throws(ServiceError) in
            guard text == "true" || text == "false" else { throw .invalid("\(path)/is_hidden must be boolean") }
            return text == "true"
        }
        exclusiveFrom = try parameters["exclusive_from"].map { text throws(ServiceError) in
            try RegistryValidation.dateTime(text, at: "\(path)/exclusive_from")
        }
        to = try parameters["to"].map { text throws(ServiceError) in try RegistryValidation.dateTime(text, at: "\(path)/to") }
    }
}

/// The replicas one registry operation touches.
public enum ReplicaSelection: Sendable, Hashable {
    case id(UUID)
    case filter(ReplicaFilter)
}
