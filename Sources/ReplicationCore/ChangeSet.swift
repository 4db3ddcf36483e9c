import Foundation
import GeoJSON
import JSONValues
import MapDepotCore
import Synchronization

/// A `POST /layers/{layerId}/changes` body, checked: `{"upserts": FeatureCollection, "deletes": [ids],
/// "changeId"?: string}`. Everything wrong is found here, before anything is applied.
public struct ChangeSet: Sendable {
    public var upserts: [FeatureState]
    public var deletes: [String]
    public var changeId: String?

    public init(upserts: [FeatureState], deletes: [String], changeId: String?) {
        self.upserts = upserts
        self.deletes = deletes
        self.changeId = changeId
    }

    /// Parses a body (``ChangeRequest/init(json:)``) and checks it against the layer.
    public init(json: JSONValue, layer: Layer) throws(ServiceError) {
        try self.init(try ChangeRequest(json: json), layer: layer)
    }

    /// Checks a request against the layer: ids are non-empty strings, each id at most once in the request,
    /// geometries present and of a type the layer holds, something to do.
    public init(_ request: ChangeRequest, layer: Layer) throws(ServiceError) {
        try self.init(checking: try Self.states(of: request.upserts, from: 0, layer: layer), deletes: request.deletes, changeId: request.changeId)
    }

    /// A change set of upserts already checked one by one (``states(of:from:layer:)``, batch by batch as a streamed body
    /// arrives): checks what needs all of them, each id at most once in the request, the deletes, the change id,
    /// something to do.
    public init(checking upserts: [FeatureState], deletes: [String], changeId: String?) throws(ServiceError) {
        if let changeId, changeId.isEmpty || changeId.count > 200 {
            throw .invalid("changeId must be 1 to 200 characters")
        }
        var seen: [String: String] = [:]
        seen.reserveCapacity(upserts.count + deletes.count)
        func claim(_ id: String, _ path: String) throws(ServiceError) {
            if let first = seen[id] { throw .invalid("\(path): feature id \"\(id)\" appears twice in one request (first at \(first))") }
            seen[id] = path
        }
        for (index, state) in upserts.enumerated() {
            try claim(state.id, "upserts.features[\(index)]")
        }
        for (index, id) in deletes.enumerated() {
            guard !id.isEmpty else { throw .invalid("deletes[\(index)] must be a non-empty string") }
            try claim(id, "deletes[\(index)]")
        }
        guard !upserts.isEmpty || !deletes.isEmpty else {
            throw .invalid("a change needs at least one upsert or delete")
        }
        self.init(upserts: upserts, deletes: deletes, changeId: changeId)
    }

    /// Checks features against the layer, each on its own (a non-empty string id, a geometry of a type the layer
    /// holds), and gives their canonical states; `first` is the index of the first in `upserts.features`, for messages.
    public static func states(of features: [Feature], from first: Int, layer: Layer) throws(ServiceError) -> [FeatureState] {
        var accepted: [(id: String, geometry: GeoJSONGeometry, properties: [String: JSONValue])] = []
        accepted.reserveCapacity(features.count)
        for (offset, feature) in features.enumerated() {
            let path = "upserts.features[\(first + offset)]"
            guard case .string(let id)? = feature.id, !id.isEmpty else {
                throw .invalid("\(path).id must be a non-empty string (braced UUIDs are the norm)")
            }
            guard let geometry = feature.geometry else { throw .invalid("\(path).geometry must not be null") }
            let type = GeometryType(geometry)
            guard layer.geometryTypes.contains(type) else {
                throw .invalid(
                    "\(path).geometry is a \(geometry.typeName) (\(type.rawValue)), which layer \(layer.layerId) does not hold (it holds \(layer.geometryTypes.map(\.rawValue).joined(separator: ", ")))"
                )
            }
            accepted.append((id, geometry, feature.properties ?? [:]))
        }
        return states(accepted)
    }

    /// The features' canonical states (right-hand rings, canonical texts: most of a large change set's CPU time), on
    /// every core for a large change set, in request order. Nothing here can fail: every check came before.
    static func states(_ features: [(id: String, geometry: GeoJSONGeometry, properties: [String: JSONValue])]) -> [FeatureState] {
        let chunk = 500
        guard features.count > chunk else { return features.map { FeatureState(id: $0.id, geometry: $0.geometry, properties: $0.properties) } }
        let chunks = (features.count + chunk - 1) / chunk
        let parts = Mutex([Int: [FeatureState]]())
        DispatchQueue.concurrentPerform(iterations: chunks) { part in
            let states = features[part * chunk..<min(features.count, (part + 1) * chunk)].map {
                FeatureState(id: $0.id, geometry: $0.geometry, properties: $0.properties)
            }
            parts.withLock { $0[part] = states }
        }
        let done = parts.withLock { $0 }
        return (0..<chunks).flatMap { done[$0]! }
    }
}

/// A `POST /layers/{layerId}/changes` body as sent: `{"upserts": FeatureCollection, "deletes": [ids], "changeId"?: string}`.
/// ``ChangeSet/init(_:layer:)`` checks it against its layer.
public struct ChangeRequest: Sendable {
    public var upserts: [Feature]
    public var deletes: [String]
    public var changeId: String?

    public init(upserts: [Feature] = [], deletes: [String] = [], changeId: String? = nil) {
        self.upserts = upserts
        self.deletes = deletes
        self.changeId = changeId
    }

    /// Parses the body's structure (an object of those members, a FeatureCollection, an array of strings).
    public init(json: JSONValue) throws(ServiceError) {
        let reader = try JSONObjectReader(json, path: "", allowed: ["upserts", "deletes", "changeId"])
        changeId = try reader.string("changeId")
        upserts = []
        if let value = reader.object["upserts"], value != .null {
            do {
                upserts = try FeatureCollection(json: value, path: "upserts").features
            } catch {
                throw ServiceError(geoJSON: error)
            }
        }
        deletes = []
        for (index, value) in (try reader.array("deletes") ?? []).enumerated() {
            guard let id = value.stringValue else { throw .invalid("deletes[\(index)] must be a non-empty string") }
            deletes.append(id)
        }
    }
}

/// What an accepted change set answers.
public struct ChangeResult: Sendable, Hashable {
    public var sequenceNumber: Int
    public var timestamp: Date
    public var created: Int
    public var modified: Int
    public var deleted: Int

    public init(sequenceNumber: Int, timestamp: Date, created: Int, modified: Int, deleted: Int) {
        self.sequenceNumber = sequenceNumber
        self.timestamp = timestamp
        self.created = created
        self.modified = modified
        self.deleted = deleted
    }

    public var json: JSONValue {
        .object([
            "sequenceNumber": .number(Double(sequenceNumber)), "timestamp": .string(Timestamp.string(timestamp)),
            "created": .number(Double(created)), "modified": .number(Double(modified)), "deleted": .number(Double(deleted)),
        ])
    }
}
