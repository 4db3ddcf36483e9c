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
        changeId = request.changeId
        if let changeId, changeId.isEmpty || changeId.count > 200 {
            throw .invalid("changeId must be 1 to 200 characters")
        }
        var seen: [String: String] = [:]
        func claim(_ id: String, _ path: String) throws(ServiceError) {
            if let first = seen[id] { throw .invalid("\(path): feature id \"\(id)\" appears twice in one request (first at \(first))") }
            seen[id] = path
        }
        var accepted: [(id: String, geometry: GeoJSONGeometry, properties: [String: JSONValue])] = []
        accepted.reserveCapacity(request.upserts.count)
        for (index, feature) in request.upserts.enumerated() {
            let path = "upserts.features[\(index)]"
            guard case .string(let id)? = feature.id, !id.isEmpty else {
                throw .invalid("\(path).id must be a non-empty string (braced UUIDs are the norm)")
            }
            try claim(id, path)
            guard let geometry = feature.geometry else { throw .invalid("\(path).geometry must not be null") }
            let type = GeometryType(geometry)
            guard layer.geometryTypes.contains(type) else {
                throw .invalid(
                    "\(path).geometry is a \(geometry.typeName) (\(type.rawValue)), which layer \(layer.layerId) does not hold (it holds \(layer.geometryTypes.map(\.rawValue).joined(separator: ", ")))"
                )
            }
            accepted.append((id, geometry, feature.properties ?? [:]))
        }
        for (index, id) in request.deletes.enumerated() {
            guard !id.isEmpty else { throw .invalid("deletes[\(index)] must be a non-empty string") }
            try claim(id, "deletes[\(index)]")
        }
        guard !accepted.isEmpty || !request.deletes.isEmpty else {
            throw .invalid("a change needs at least one upsert or delete")
        }
        self.upserts = ChangeSet.states(accepted)
        self.deletes = request.deletes
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
