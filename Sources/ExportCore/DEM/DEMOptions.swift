import Foundation
import JSONValues
import MapDepotCore
import Raster
import TileGrid

/// A DEM export's options, in the MapColonies export UI's terms (issue #13; ui-sync-dem-3d-anchors §C3), sent in the
/// request's `parameters` (export-management's free-form member): `resolutionMeter` (clamped to the record's),
/// `dataType` (INT16 or FLOAT32; FLOAT64 is refused: the gridded-coverage extension stores 16-bit PNG or float32 TIFF
/// only), `resampleMethod` (nearest, bilinear) and `projection` (WGS84; UTM is not offered). Other members are left
/// alone, as the contract's `parameters` may carry anything.
public struct DEMOptions: Sendable, Hashable {
    public var zoom: Int
    public var dataType: ElevationProperties.DataType
    public var resampling: Resampling

    public init(parameters: JSONValue?, record: CatalogRecord) throws(ServiceError) {
        guard let elevation = record.elevation else { throw ServiceError.invalid("catalog record \(record.id) is not a DEM") }
        let object = parameters?.objectValue ?? [:]
        let full = DEMSource.fullZoom(sourceResolutionDeg: elevation.sourceResolutionDeg)
        switch object["resolutionMeter"] {
        case nil, .null?:
            zoom = full
        case .number(let metres)? where metres > 0 && metres.isFinite:
            // The zoom nearest to the asked resolution (log scale), never finer than the record keeps.
            let degrees = metres / 111_319.490_793_273_58
            zoom = max(0, min(full, Int(log2(WorldCRS84Quad.zoomZeroResolution / degrees).rounded())))
        case _?:
            throw ServiceError.invalid("parameters.resolutionMeter must be a positive number of metres")
        }
        switch object["dataType"] {
        case nil, .null?: dataType = elevation.dataType
        case .string("FLOAT64")?:
            throw ServiceError.invalid(
                "parameters.dataType FLOAT64 cannot be stored in a GeoPackage gridded coverage (16-bit PNG or float32 TIFF tiles only); ask for FLOAT32"
            )
        case .string(let raw)?:
            guard let parsed = ElevationProperties.DataType(rawValue: raw) else {
                throw ServiceError.invalid("parameters.dataType must be INT16 or FLOAT32, found \"\(raw)\"")
            }
            dataType = parsed
        case _?: throw ServiceError.invalid("parameters.dataType must be INT16 or FLOAT32")
        }
        switch object["resampleMethod"] {
        case nil, .null?: resampling = .nearest
        case .string(let raw)?:
            guard let parsed = Resampling(rawValue: raw.lowercased()) else {
                throw ServiceError.invalid("parameters.resampleMethod must be nearest or bilinear, found \"\(raw)\"")
            }
            resampling = parsed
        case _?: throw ServiceError.invalid("parameters.resampleMethod must be nearest or bilinear")
        }
        switch object["projection"] {
        case nil, .null?, .string("WGS84")?: break
        case .string(let raw)?: throw ServiceError.invalid("parameters.projection \"\(raw)\" is not offered; DEM exports are WGS84 (EPSG:4326)")
        case _?: throw ServiceError.invalid("parameters.projection must be WGS84")
        }
    }

    /// What makes two DEM exports of one ROI different (their dedup key's suffix).
    public var key: String { "dem:\(zoom):\(dataType.rawValue):\(resampling.rawValue)" }

    /// The tile encoding for these values (nil when INT16 cannot hold them beside the null).
    func encoding(for grid: ElevationGrid, noDataValue: Double?) -> CoverageEncoding? {
        switch dataType {
        case .float32:
            return .float32(null: Float(noDataValue ?? -32768))
        case .int16:
            var low = Float.infinity
            var high = -Float.infinity
            for value in grid.values where !grid.isNoData(value) {
                low = min(low, value.rounded())
                high = max(high, value.rounded())
            }
            return low > high ? .png16(offset: -32768) : CoverageEncoding.png16(for: low...high)
        }
    }

    /// The ROI as the planner takes it: every feature at this zoom only.
    func roi(_ roi: [ROIFeature]) -> [ROIFeature] {
        roi.map { feature in
            var single = feature
            single.maxResolutionDeg = WorldCRS84Quad.resolution(zoom)
            single.minResolutionDeg = WorldCRS84Quad.resolution(zoom)
            return single
        }
    }
}
