import Crypto
import Foundation
import GeoJSON
import Geometry
import MapDepotCore
import TileGrid

extension ExportRequest {
    /// The key under which equivalent requests share one export (issue #4 part 1).
    ///
    /// Two requests are equivalent when record, domain, CRS and ROI are the same as geometry and zooms,
    /// whatever the order of features, of polygons in a MultiPolygon, of holes, the ring's starting vertex
    /// and its winding; a Polygon equals a MultiPolygon of that one polygon. Resolutions count by the zooms
    /// they select (zoom = floor(log2(0.703125 / res))), since that is what decides the output; an
    /// unspecified `maxResolutionDeg` is the record's.
    public func dedupKey(recordMaxResolutionDeg: Double) -> String {
        let features = roi.map { feature -> String in
            let maxZoom = WorldCRS84Quad.zoom(forResolution: feature.maxResolutionDeg ?? recordMaxResolutionDeg)
            let minZoom = WorldCRS84Quad.zoom(forResolution: feature.minResolutionDeg ?? WorldCRS84Quad.zoomZeroResolution)
            let polygons = feature.polygons.map(Self.canonical).sorted()
            return "\(minZoom)-\(maxZoom):" + polygons.joined(separator: ";")
        }.sorted()
        let text = [catalogRecordID.uuidString.lowercased(), domain.rawValue, artifactCRS].joined(separator: "|") + "|"
            + features.joined(separator: "||")
        return Hex.encode(SHA256.hash(data: Data(text.utf8)))
    }

    /// A polygon as text: exterior counter-clockwise, holes clockwise, every ring opened and rotated to start at
    /// its smallest vertex, holes sorted.
    static func canonical(_ polygon: PolygonCoordinates) -> String {
        let rings = polygon.rings.enumerated().map { index, ring -> String in
            var points = Ring.open(ring.map { Point($0.longitude, $0.latitude) })
            let area = Ring.signedArea(points)
            if (index == 0) == (area < 0) { points.reverse() }
            if let start = points.indices.min(by: { (points[$0].x, points[$0].y) < (points[$1].x, points[$1].y) }) {
                points = Array(points[start...] + points[..<start])
            }
            return points.map { "\($0.x),\($0.y)" }.joined(separator: " ")
        }
        return ([rings[0]] + rings.dropFirst().sorted()).joined(separator: "/")
    }
}
