import Foundation
import MapDepotCore
import GeoJSON

/// The product domains of the MapColonies Export contract.
public enum ProductDomain: String, Sendable, Codable, CaseIterable {
    case raster = "RASTER"
    case dem = "DEM"
    case threeD = "3D"
}

/// Tile image format of a product (raster catalog profile `tileOutputFormat`).
public enum TileFormat: String, Sendable, Codable, CaseIterable {
    case png = "PNG"
    case jpeg = "JPEG"
}

/// Raster catalog profile `transparency`.
public enum Transparency: String, Sendable, Codable, CaseIterable {
    case opaque = "OPAQUE"
    case transparent = "TRANSPARENT"
}

/// Per-zoom statistics of a product's tiles, measured when the record is added; they make estimates real.
public struct ZoomStatistics: Sendable, Codable, Hashable {
    public var zoom: Int
    public var tiles: Int
    public var bytes: Int
    /// The pages these tiles would take in a package (``GeoPackageSizeModel``); nil in records measured before it.
    public var pages: Double?

    public init(zoom: Int, tiles: Int, bytes: Int, pages: Double? = nil) {
        self.zoom = zoom
        self.tiles = tiles
        self.bytes = bytes
        self.pages = pages
    }
}

/// A catalog record: one exportable product (SPEC "Catalog"; field names from the MapColonies raster
/// catalog profile, export-anchors §4.6).
public struct CatalogRecord: Sendable, Hashable {
    public var id: UUID
    public var productId: String
    public var productName: String
    public var productVersion: String
    public var productType: String
    public var domain: ProductDomain
    /// Polygon or MultiPolygon, WGS84.
    public var footprint: GeoJSONGeometry
    public var maxResolutionDeg: Double
    public var maxResolutionMeter: Double?
    public var tileOutputFormat: TileFormat
    public var transparency: Transparency
    public var description: String?
    public var source: TileSourceDescriptor
    /// Additive: what the source holds, zoom by zoom.
    public var statistics: [ZoomStatistics]
    public var createdAt: Date
    /// DEM records: nodata, units, vertical datum, data type (issue #13).
    public var elevation: ElevationProperties?

    public init(
        id: UUID, productId: String, productName: String, productVersion: String, productType: String,
        domain: ProductDomain, footprint: GeoJSONGeometry, maxResolutionDeg: Double, maxResolutionMeter: Double?,
        tileOutputFormat: TileFormat, transparency: Transparency, description: String?,
        source: TileSourceDescriptor, statistics: [ZoomStatistics], createdAt: Date, elevation: ElevationProperties? = nil
    ) {
        self.elevation = elevation
        self.id = id
        self.productId = productId
        self.productName = productName
        self.productVersion = productVersion
        self.productType = productType
        self.domain = domain
        self.footprint = footprint
        self.maxResolutionDeg = maxResolutionDeg
        self.maxResolutionMeter = maxResolutionMeter
        self.tileOutputFormat = tileOutputFormat
        self.transparency = transparency
        self.description = description
        self.source = source
        self.statistics = statistics
        self.createdAt = createdAt
    }
}
