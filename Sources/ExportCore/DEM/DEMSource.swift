import Foundation
import GeoJSON
import GeoPackage
import Geometry
import MapDepotCore
import Raster
import TileGrid

/// A DEM record's source on this node (domain DEM, issue #13): a GeoTIFF, or a GeoPackage 2D gridded coverage (as GDAL
/// or MapDepot writes it). Read whole: a large DEM is held in memory while it is exported (noted in the issue).
struct DEMSource: Sendable {
    let source: TileSourceDescriptor

    init(_ source: TileSourceDescriptor) throws(ServiceError) {
        switch source {
        case .geotiff, .geopackage, .directory(_, _, .tiff): self.source = source
        default:
            throw ServiceError.invalid(
                "a DEM record's source is a GeoTIFF (source.type \"geotiff\"), a gridded-coverage GeoPackage or a directory of float32 TIFF tiles (format \"tiff\")"
            )
        }
    }

    /// Blocking: run it off the cooperative pool.
    func grid(noDataValue: Double?) throws(ServiceError) -> ElevationGrid {
        let path = source.path
        var grid: ElevationGrid
        do {
            if case .geopackage(_, let table) = source {
                grid = try GriddedCoverageReader(path: path, table: table).grid()
            } else if case .directory(_, let scheme, _) = source {
                grid = try TIFFPyramid(root: path, scheme: scheme).grid(noDataValue: noDataValue)
            } else {
                grid = try TIFFReader(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path)))).grid()
            }
        } catch let error as ServiceError {
            throw error
        } catch {
            throw ServiceError.invalid("source \(path): \(error)")
        }
        if let noDataValue { grid.nodata = Float(noDataValue) }
        let bounds = grid.bounds
        guard grid.pixelX > 0, grid.pixelY > 0, bounds.west >= -180, bounds.east <= 180, bounds.south >= -90, bounds.north <= 90 else {
            throw ServiceError.invalid("source \(path) is not a north-up EPSG:4326 grid (its extent is \(bounds))")
        }
        return grid
    }

    /// The coarsest WorldCRS84Quad zoom whose cells are no larger than the source's: nothing of the source is lost.
    static func fullZoom(sourceResolutionDeg: Double) -> Int {
        var zoom = 0
        while zoom < WorldCRS84Quad.maxZoom && WorldCRS84Quad.resolution(zoom) > sourceResolutionDeg * (1 + 1e-9) { zoom += 1 }
        return zoom
    }
}

extension CatalogService {
    /// A DEM record: footprint = the grid's extent, `maxResolutionDeg` = the zoom that keeps every cell,
    /// `maxResolutionMeter` = the source's cell at the equator, nodata from the source unless given.
    func describeDEM(_ draft: CatalogRecordDraft) async throws -> CatalogRecord {
        if case .geotiff(let path) = draft.source, draft.domain != .dem {
            throw ServiceError.invalid("source \(path) is a GeoTIFF DEM: the record's domain must be \"DEM\", found \"\(draft.domain.rawValue)\"")
        }
        let source = try DEMSource(draft.source)
        let noData = draft.noDataValue
        // Reading and scanning every cell is CPU work: off the cooperative pool.
        let (grid, integral) = try await Offload.run {
            let grid = try source.grid(noDataValue: noData)
            return (grid, grid.values.allSatisfy { $0.rounded() == $0 || grid.isNoData($0) })
        }
        let bounds = grid.bounds
        let box = BoundingBox(minX: bounds.west, minY: bounds.south, maxX: bounds.east, maxY: bounds.north)
        let elevation = ElevationProperties(
            noDataValue: grid.nodata.map(Double.init), units: draft.units ?? "m", verticalDatum: draft.verticalDatum,
            dataType: integral ? .int16 : .float32, sourceResolutionDeg: grid.pixelX
        )
        let zoom = DEMSource.fullZoom(sourceResolutionDeg: grid.pixelX)
        return CatalogRecord(
            id: draft.id ?? UUID(), productId: draft.productId, productName: draft.productName, productVersion: draft.productVersion,
            productType: draft.productType, domain: .dem, footprint: draft.footprint ?? .polygon(PolygonCoordinates(rectangle: box)),
            maxResolutionDeg: WorldCRS84Quad.resolution(zoom), maxResolutionMeter: draft.maxResolutionMeter ?? (grid.pixelX * 111_319.490_793_273_58 * 100).rounded() / 100,
            tileOutputFormat: .png, transparency: .transparent, description: draft.description, source: draft.source, statistics: [],
            createdAt: clock.now(), elevation: elevation
        )
    }
}
