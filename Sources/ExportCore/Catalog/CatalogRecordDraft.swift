import Foundation
import GeoJSON
import JSONValues
import MapDepotCore
import TileGrid

/// What a client sends to add a record: every field of ``CatalogRecord`` except what MapDepot measures.
/// `footprint` and `maxResolutionDeg` may be left out: then they come from the tiles present.
public struct CatalogRecordDraft: Sendable {
    public var id: UUID?
    public var productId: String
    public var productName: String
    public var productVersion: String
    public var productType: String
    public var domain: ProductDomain
    public var footprint: GeoJSONGeometry?
    public var maxResolutionDeg: Double?
    public var maxResolutionMeter: Double?
    public var tileOutputFormat: TileFormat?
    public var transparency: Transparency?
    public var description: String?
    public var source: TileSourceDescriptor
    /// DEM records (issue #13): what the source's values mean; nodata from the source when not given.
    public var noDataValue: Double?
    public var units: String?
    public var verticalDatum: String?

    public init(
        id: UUID? = nil, productId: String, productName: String, productVersion: String = "1.0",
        productType: String = "Orthophoto", domain: ProductDomain = .raster, footprint: GeoJSONGeometry? = nil,
        maxResolutionDeg: Double? = nil, maxResolutionMeter: Double? = nil, tileOutputFormat: TileFormat? = nil,
        transparency: Transparency? = nil, description: String? = nil, source: TileSourceDescriptor
    ) {
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
    }

    static let fields: Set<String> = [
        "id", "productId", "productName", "productVersion", "productType", "domain", "footprint", "maxResolutionDeg",
        "maxResolutionMeter", "tileOutputFormat", "transparency", "description", "source", "noDataValue", "units", "verticalDatum",
    ]

    /// Parses a `POST /catalog/records` body; unknown members are refused.
    public init(json: JSONValue) throws(ServiceError) {
        let reader = try JSONObjectReader(json, path: "", allowed: Self.fields)
        var id: UUID?
        if let raw = try reader.string("id") {
            guard let parsed = UUID(uuidString: raw) else { throw .invalid("id must be a UUID, found \"\(raw)\"") }
            id = parsed
        }
        var footprint: GeoJSONGeometry?
        if let value = reader.object["footprint"], value != .null {
            let geometry: GeoJSONGeometry
            do {
                geometry = try GeoJSONGeometry(json: value, path: "footprint")
            } catch {
                throw ServiceError(geoJSON: error)
            }
            guard !geometry.polygons.isEmpty else {
                throw .invalid("footprint must be a Polygon or MultiPolygon, found \(geometry.typeName)")
            }
            footprint = geometry
        }
        try self.init(
            id: id, reader: reader, footprint: footprint,
            source: try TileSourceDescriptor(json: try reader.required("source"), path: "source")
        )
    }

    private init(id: UUID?, reader: JSONObjectReader, footprint: GeoJSONGeometry?, source: TileSourceDescriptor) throws(ServiceError) {
        let productId = try reader.requiredString("productId")
        guard !productId.isEmpty, productId.allSatisfy({ $0.isLetter || $0.isNumber || "_-".contains($0) }) else {
            throw .invalid("productId must be letters, digits, '_' or '-' only, found \"\(productId)\"")
        }
        let maxResolutionDeg = try reader.number("maxResolutionDeg")
        if let maxResolutionDeg {
            let zoom = WorldCRS84Quad.zoom(forResolution: maxResolutionDeg)
            guard maxResolutionDeg > 0, (0...WorldCRS84Quad.maxZoom).contains(zoom) else {
                throw .invalid("maxResolutionDeg \(maxResolutionDeg) is outside zoom 0–22 (0.703125 to 1.67638063430786e-7)")
            }
        }
        self.init(
            id: id,
            productId: productId,
            productName: try reader.string("productName") ?? productId,
            productVersion: try reader.string("productVersion") ?? "1.0",
            productType: try reader.string("productType") ?? "Orthophoto",
            domain: try reader.oneOf("domain", ProductDomain.self) ?? .raster,
            footprint: footprint,
            maxResolutionDeg: maxResolutionDeg,
            maxResolutionMeter: try reader.number("maxResolutionMeter"),
            tileOutputFormat: try reader.oneOf("tileOutputFormat", TileFormat.self),
            transparency: try reader.oneOf("transparency", Transparency.self),
            description: try reader.string("description"),
            source: source
        )
        noDataValue = try reader.number("noDataValue")
        units = try reader.string("units")
        verticalDatum = try reader.string("verticalDatum")
    }
}
