import Foundation
import GeoJSON
import Geometry
import JSONValues
import MapDepotCore

/// One version of a feature as stored: canonical JSON texts, so that equality of text is equality of
/// content and files are written by concatenation, without re-encoding.
public struct FeatureState: Sendable, Hashable {
    public var id: String
    public var geometryType: GeometryType
    /// Canonical GeoJSON geometry (sorted keys, right-hand rings).
    public var geometry: String
    /// Canonical properties object (sorted keys).
    public var properties: String

    public init(id: String, geometryType: GeometryType, geometry: String, properties: String) {
        self.id = id
        self.geometryType = geometryType
        self.geometry = geometry
        self.properties = properties
    }

    /// The state of a GeoJSON feature: geometry turned to the right-hand rule (RFC 7946 §3.1.6), both
    /// members encoded canonically.
    public init(id: String, geometry: GeoJSONGeometry, properties: [String: JSONValue]) {
        self.init(
            id: id,
            geometryType: GeometryType(geometry),
            geometry: CanonicalJSON.text(geometry.rightHanded()),
            properties: CanonicalJSON.text(.object(properties))
        )
    }

    /// The feature as a GeoJSON Feature object's text; `diff` is added for deltas.
    public func featureText(diff: FeatureDiff? = nil) -> String {
        // One buffer, sized once: this runs for every feature of every replica.
        var diffText = diff?.text
        var (id, geometry, properties) = (id, geometry, properties)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(80 + id.utf8.count + geometry.utf8.count + properties.utf8.count + (diffText?.utf8.count ?? 0))
        id.withUTF8 { id in
            geometry.withUTF8 { geometry in
                properties.withUTF8 { properties in
                    if diffText == nil {
                        Self.writeText(id: id, geometry: geometry, properties: properties, diff: nil, into: &bytes)
                    } else {
                        diffText!.withUTF8 { Self.writeText(id: id, geometry: geometry, properties: properties, diff: $0, into: &bytes) }
                    }
                }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `{"type":"Feature","id":…,"geometry":…,"properties":…[,"diff":…]}` from its parts' UTF-8 (the geometry,
    /// properties and diff already canonical JSON): the one definition of a replica's feature text, for strings and for
    /// a store's column bytes (``FeatureTexts``) alike.
    static func writeText(
        id: UnsafeBufferPointer<UInt8>, geometry: UnsafeBufferPointer<UInt8>, properties: UnsafeBufferPointer<UInt8>,
        diff: UnsafeBufferPointer<UInt8>?, into bytes: inout [UInt8]
    ) {
        bytes += #"{"type":"Feature","id":"#.utf8
        CanonicalJSON.writeString(utf8: id, into: &bytes)
        bytes += #","geometry":"#.utf8
        bytes.append(contentsOf: geometry)
        bytes += #","properties":"#.utf8
        bytes.append(contentsOf: properties)
        if let diff {
            bytes += #","diff":"#.utf8
            bytes.append(contentsOf: diff)
        }
        bytes.append(UInt8(ascii: "}"))
    }
}

extension GeoJSONGeometry {
    /// The geometry with polygon exteriors counter-clockwise and holes clockwise (RFC 7946 §3.1.6).
    public func rightHanded() -> GeoJSONGeometry {
        func orient(_ polygon: PolygonCoordinates) -> PolygonCoordinates {
            PolygonCoordinates(
                rings: polygon.rings.enumerated().map { index, ring in
                    let area = Ring.signedArea(ring.map { Point($0.longitude, $0.latitude) })
                    let wantCounterClockwise = index == 0
                    return (area < 0) == wantCounterClockwise ? Array(ring.reversed()) : ring
                }
            )
        }
        switch self {
        case .polygon(let polygon): return .polygon(orient(polygon))
        case .multiPolygon(let polygons): return .multiPolygon(polygons.map(orient))
        default: return self
        }
    }
}
