import GeoJSON
import MapDepotCore
import Geometry
import TileGrid

/// The tiles an export writes and the facts its metadata reports.
public struct ExportPlan: Sendable {
    /// Covered tiles per zoom, union over the ROI's features, zoom 0…maxZoom (empty zooms included).
    public var zooms: [ZoomCoverage]
    public var minZoom: Int
    public var maxZoom: Int
    /// ROI ∩ footprint, for the metadata's `footprint`.
    public var footprint: [PolygonCoordinates]
    /// The ROI's box (GeoPackage `gpkg_contents` bounds).
    public var roiBounds: BoundingBox
    /// The box of ROI ∩ footprint (`productBoundingBox`).
    public var productBounds: BoundingBox

    public var tileCount: Int { zooms.reduce(0) { $0 + $1.tileCount } }
}

/// The size of a request, known before it runs.
public struct ExportEstimate: Sendable, Hashable {
    public var tiles: Int
    public var bytes: Int64
    public var seconds: Int64
    public var tilesPerZoom: [Int: Int]

    public init(tiles: Int, bytes: Int64, seconds: Int64, tilesPerZoom: [Int: Int]) {
        self.tiles = tiles
        self.bytes = bytes
        self.seconds = seconds
        self.tilesPerZoom = tilesPerZoom
    }
}
