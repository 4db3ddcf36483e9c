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
        let diffText = diff?.text
        var bytes: [UInt8] = []
        bytes.reserveCapacity(80 + id.utf8.count + geometry.utf8.count + properties.utf8.count + (diffText?.utf8.count ?? 0))
        bytes += #"{"type":"Feature","id":"#.utf8
        CanonicalJSON.writeString(id, into: &bytes)
        bytes += #","geometry":"#.utf8
        bytes += geometry.utf8
        bytes += #","properties":"#.utf8
        bytes += properties.utf8
        if let diffText {
            bytes += #","diff":"#.utf8
            bytes += diffText.utf8
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
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
