import Foundation
import JSONValues
import MapDepotCore

/// A webhook subscription to a layer's publications (issue #14 item 5): every replica published for it (of its geometry
/// types, all when none are given) is POSTed to `url` as `{event: "REPLICA_PUBLISHED", timestamp, data: <replica>}`,
/// signed with `secret` like export webhooks, from the same durable outbox: the publication and its deliveries commit
/// together.
public struct LayerSubscription: Sendable, Hashable {
    public var id: UUID
    public var layerId: Int
    /// The token subject that made it: only it lists and removes it.
    public var subscriber: String
    public var url: String
    public var secret: String?
    /// Empty: every geometry type of the layer.
    public var geometryTypes: [GeometryType]
    public var createdAt: Date

    public init(id: UUID, layerId: Int, subscriber: String, url: String, secret: String?, geometryTypes: [GeometryType], createdAt: Date) {
        self.id = id
        self.layerId = layerId
        self.subscriber = subscriber
        self.url = url
        self.secret = secret
        self.geometryTypes = geometryTypes
        self.createdAt = createdAt
    }

    /// A `POST /layers/{layerId}/subscriptions` body: `{url, secret?, geometryTypes?}`, checked as export webhooks are.
    public init(json: JSONValue, layerId: Int, subscriber: String, now: Date) throws(ServiceError) {
        let reader = try JSONObjectReader(json, path: "", allowed: ["url", "secret", "geometryTypes"])
        let url = try reader.webhookURL("url")
        let secret = try reader.webhookSecret("secret")
        var types: [GeometryType] = []
        for (index, value) in (try reader.array("geometryTypes") ?? []).enumerated() {
            guard let type = value.stringValue.flatMap(GeometryType.init(rawValue:)) else {
                throw .invalid("geometryTypes[\(index)] must be one of point, linestring, polygon")
            }
            if !types.contains(type) { types.append(type) }
        }
        self.init(id: UUID(), layerId: layerId, subscriber: subscriber, url: url, secret: secret, geometryTypes: types.sorted(), createdAt: now)
    }

    /// As listed: no secret, whether there is one.
    public var json: JSONValue {
        .object([
            "id": .string(id.uuidString.lowercased()), "layerId": .number(Double(layerId)), "url": .string(url),
            "geometryTypes": .array(geometryTypes.map { .string($0.rawValue) }), "signed": .bool(secret != nil),
            "createdAt": .string(Timestamp.string(createdAt)),
        ])
    }

    public func wants(_ type: GeometryType) -> Bool { geometryTypes.isEmpty || geometryTypes.contains(type) }
}

/// What a publication notifies: the stored webhook body of the numbered replica, and the deliveries' time and budget.
public struct ReplicaNotice: Sendable {
    public var now: Date
    /// After this, a delivery is given up (the webhook retry budget).
    public var expires: Date
    public var message: @Sendable (Replica) -> String

    public init(now: Date, expires: Date, message: @escaping @Sendable (Replica) -> String) {
        self.now = now
        self.expires = expires
        self.message = message
    }

    /// `{event: "REPLICA_PUBLISHED", timestamp, data: <replica, files by key>}`: the dispatcher makes each key its URL.
    public static func message(_ replica: Replica, at now: Date) -> String {
        CanonicalJSON.text(
            .object(["event": .string("REPLICA_PUBLISHED"), "timestamp": .string(Timestamp.string(now)), "data": replica.json(links: nil)])
        )
    }
}

extension LayerSubscription {
    public init(row: some StoredRow) throws {
        let text = try row.optionalString("geometry_types") ?? ""
        self.init(
            id: try row.uuid("id"), layerId: try row.int("layer_id"), subscriber: try row.string("subscriber"), url: try row.string("url"),
            secret: try row.optionalString("secret"),
            geometryTypes: text.split(separator: ",").compactMap { GeometryType(rawValue: String($0)) }, createdAt: try row.date("created_at")
        )
    }
}
