import Foundation
import GeoJSON
import JSONValues
import MapDepotCore
import ReplicationCore

/// A feature of a replica: its geometry and properties for the copy's columns, and its canonical text (what the server
/// hashed) for the layer hash.
public struct MirrorFeature: Sendable {
    public var state: FeatureState
    public var geometry: GeoJSONGeometry
    public var properties: [String: JSONValue]

    /// The text is encoded from the file's values as they are, not turned to the right-hand rule again: the server wrote
    /// them canonical, and turning a degenerate (zero-area) hole is not idempotent.
    public init(id: String, geometry: GeoJSONGeometry, properties: [String: JSONValue]) {
        self.geometry = geometry
        self.properties = properties
        state = FeatureState(
            id: id, geometryType: GeometryType(geometry), geometry: CanonicalJSON.text(geometry), properties: CanonicalJSON.text(.object(properties))
        )
    }
}

/// What one replica holds, from its zips' entries: features (`*.geojson` FeatureCollections) and deleted ids
/// (`deleted_*.json` arrays), in the replication README's layout.
public struct ReplicaContent: Sendable {
    public private(set) var upserts: [MirrorFeature]
    public private(set) var deletions: [String]
    /// The ``LayerHash`` of every upsert's text, summed as the features are read (on every core when a reader parses
    /// entries in parallel), so that a target's transaction only hashes the states it replaces.
    public private(set) var upsertHash = LayerHash()

    public init(upserts: [MirrorFeature] = [], deletions: [String] = []) {
        self.upserts = upserts
        self.deletions = deletions
        for feature in upserts { upsertHash.toggle(feature.state.featureText()) }
    }

    /// Appends another part's features and deletions (a reader's entries, in order).
    public mutating func merge(_ other: ReplicaContent) {
        upserts += other.upserts
        deletions += other.deletions
        upsertHash.combine(other.upsertHash)
    }

    /// Adds one zip entry. Features are read back into MapDepot's canonical form (the texts the server hashed).
    public mutating func add(entry name: String, data: Data) throws {
        let base = name.split(separator: "/").last.map(String.init) ?? name
        if base.hasPrefix("deleted_") {
            guard let ids = try JSONValue.parse(data).arrayValue else { throw SyncError.protocolViolation("\(name) is not an array of ids") }
            for id in ids {
                guard let text = id.stringValue else { throw SyncError.protocolViolation("\(name) holds an id that is not a string") }
                deletions.append(text)
            }
        } else if base.hasSuffix(".geojson") {
            let collection = try FeatureCollection(data: data, path: name)
            for (index, feature) in collection.features.enumerated() {
                guard case .string(let id)? = feature.id, let geometry = feature.geometry else {
                    throw SyncError.protocolViolation("\(name) feature \(index) has no string id or no geometry")
                }
                let mirrored = MirrorFeature(id: id, geometry: geometry, properties: feature.properties ?? [:])
                upsertHash.toggle(mirrored.state.featureText())
                upserts.append(mirrored)
            }
        }
    }
}
