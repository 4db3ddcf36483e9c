import Foundation
import GeoJSON
import JSONValues
import MapDepotCore

/// A vector layer: what `GET /layers` lists (replica-server `getLayers`).
public struct Layer: Sendable, Hashable {
    public var layerId: Int
    public var layerName: String
    public var geometryTypes: [GeometryType]
    public var createdAt: Date
    /// The sequence number of the last accepted change (0 for none).
    public var lastSequence: Int
    /// Stable for the layer's life (issue #14): every replica and listing carries it, so a client cannot mix two
    /// servers' (or two incarnations of a layer's) chains.
    public var sourceId: UUID
    /// History before this change sequence is pruned (issue #14 retention): states as of it and later are exact.
    public var historyFrom: Int = 0

    public init(layerId: Int, layerName: String, geometryTypes: [GeometryType], createdAt: Date, lastSequence: Int = 0, sourceId: UUID) {
        self.sourceId = sourceId
        self.layerId = layerId
        self.layerName = layerName
        self.geometryTypes = geometryTypes
        self.createdAt = createdAt
        self.lastSequence = lastSequence
    }

    /// The contract's shape, `{layerId, layerName, geometryTypes}`, and MapDepot's `sourceId`.
    public var json: JSONValue {
        .object([
            "layerId": .number(Double(layerId)), "layerName": .string(layerName),
            "geometryTypes": .array(geometryTypes.map { .string($0.rawValue) }), "sourceId": .string(sourceId.uuidString.lowercased()),
        ])
    }
}

/// A `POST /layers` body: `{layerId?, layerName, geometryTypes}`.
public struct LayerDraft: Sendable {
    public var layerId: Int?
    public var layerName: String
    public var geometryTypes: [GeometryType]
    /// Made once, when the layer is created.
    public var sourceId = UUID()

    public init(layerId: Int?, layerName: String, geometryTypes: [GeometryType]) {
        self.layerId = layerId
        self.layerName = layerName
        self.geometryTypes = geometryTypes
    }

    public init(json: JSONValue) throws(ServiceError) {
        let reader = try JSONObjectReader(json, path: "", allowed: ["layerId", "layerName", "geometryTypes"])
        var layerId: Int?
        if let number = try reader.number("layerId") {
            guard number.rounded() == number, number >= 1, number <= Double(Int32.max) else {
                throw .invalid("layerId must be a positive integer, found \(number)")
            }
            layerId = Int(number)
        }
        let name = try reader.requiredString("layerName")
        guard let types = try reader.array("geometryTypes"), !types.isEmpty else {
            throw .invalid("geometryTypes needs at least one of point, linestring, polygon")
        }
        var parsed: [GeometryType] = []
        for (index, value) in types.enumerated() {
            guard let raw = value.stringValue, let type = GeometryType(rawValue: raw) else {
                throw .invalid("geometryTypes[\(index)] must be one of point, linestring, polygon")
            }
            guard !parsed.contains(type) else { throw .invalid("geometryTypes lists \(raw) twice") }
            parsed.append(type)
        }
        self.init(layerId: layerId, layerName: name, geometryTypes: parsed.sorted())
        try check()
    }

    /// The rules of a layer, however the draft was made (API body, CLI options): a name of 1 to 255 characters, at
    /// least one geometry type, an id that fits the contract's integer.
    public func check() throws(ServiceError) {
        guard !layerName.isEmpty, layerName.count <= 255 else { throw .invalid("layerName must be 1 to 255 characters") }
        guard !geometryTypes.isEmpty else { throw .invalid("geometryTypes needs at least one of point, linestring, polygon") }
        if let layerId, layerId < 1 || layerId > Int(Int32.max) { throw .invalid("layerId must be a positive integer, found \(layerId)") }
    }
}
