import Foundation
import MapDepotCore
import GeoJSON
import Geometry
import GeoPackage
import TileGrid

/// Turns a record and an ROI into tiles: zoom ranges from resolutions, exact coverage of feature ∩ footprint.
///
/// Rules (issue #2 part 6, export-anchors §1.2):
/// - zoom(res) = floor(log2(0.703125 / res)); a feature's zooms are zoom(minResolutionDeg)…zoom(maxResolutionDeg),
///   defaulting to 0…zoom(record.maxResolutionDeg);
/// - a feature finer than the product, coarser than zoom 0 or finer than zoom 22, or with min finer than max,
///   is refused; so is one that does not meet the footprint;
/// - tiles are those whose squares overlap feature ∩ footprint with positive area; the union over features.
public struct ExportPlanner: Sendable {
    /// Above this many tiles a request is refused (422).
    public var maxTiles: Int
    /// Bytes per tile when the record has no statistics (MapColonies' configured default, export-anchors §8).
    public var defaultTileBytes: Int
    /// The rate `estimatedTime` assumes.
    public var tilesPerSecond: Double

    public init(maxTiles: Int, defaultTileBytes: Int = 12_500, tilesPerSecond: Double) {
        self.maxTiles = maxTiles
        self.defaultTileBytes = defaultTileBytes
        self.tilesPerSecond = tilesPerSecond
    }

    struct FeatureRegion {
        var region: Region
        var zooms: ClosedRange<Int>
    }

    /// Checks the request against the record and returns every feature's region and zooms.
    func regions(record: CatalogRecord, roi: [ROIFeature]) throws(ServiceError) -> [FeatureRegion] {
        let recordZoom = WorldCRS84Quad.zoom(forResolution: record.maxResolutionDeg)
        let pieces: [Region.SignedRing]
        do {
            pieces = try Region.convexPieces(of: record.footprint.polygons)
        } catch {
            throw .invalid("the catalog record's footprint cannot be used: \(error)")
        }
        return try roi.enumerated().map { index, feature throws(ServiceError) in
            let path = "ROI.features[\(index)].properties"
            let maxResolution = feature.maxResolutionDeg ?? record.maxResolutionDeg
            let minResolution = feature.minResolutionDeg ?? WorldCRS84Quad.zoomZeroResolution
            let maxZoom = WorldCRS84Quad.zoom(forResolution: maxResolution)
            let minZoom = WorldCRS84Quad.zoom(forResolution: minResolution)
            for (name, value, zoom) in [("maxResolutionDeg", maxResolution, maxZoom), ("minResolutionDeg", minResolution, minZoom)]
            where !(0...WorldCRS84Quad.maxZoom).contains(zoom) {
                throw .invalid(
                    "\(path).\(name) \(value) is outside zoom 0–22: it must be between 1.67638063430786e-7 and 0.703125"
                )
            }
            guard maxZoom <= recordZoom else {
                throw .invalid(
                    "\(path).maxResolutionDeg: requested resolution \(maxResolution) (zoom \(maxZoom)) is finer than the product's resolution \(record.maxResolutionDeg) (zoom \(recordZoom))"
                )
            }
            guard minZoom <= maxZoom else {
                throw .invalid(
                    "\(path): minResolutionDeg \(minResolution) (zoom \(minZoom)) is finer than maxResolutionDeg \(maxResolution) (zoom \(maxZoom)); the minimum resolution must be the coarser one"
                )
            }
            let region = Region(polygons: feature.polygons).intersection(convexPieces: pieces)
            guard let bounds = region.bounds, region.area > bounds.area * 1e-12, region.area > 0 else {
                throw .invalid("ROI.features[\(index)] has no intersection with the product's footprint")
            }
            return FeatureRegion(region: region, zooms: minZoom...maxZoom)
        }
    }

    /// The number of tiles the request covers, without building the plan; stops counting past `maxTiles`.
    public func estimate(record: CatalogRecord, roi: [ROIFeature]) throws(ServiceError) -> ExportEstimate {
        let features = try regions(record: record, roi: roi)
        let maxZoom = features.map(\.zooms.upperBound).max() ?? 0
        var tilesPerZoom: [Int: Int] = [:]
        var total = 0
        for zoom in 0...maxZoom {
            let atZoom = features.filter { $0.zooms.contains(zoom) }
            guard !atZoom.isEmpty else { continue }
            // One feature: count without storing tiles, stopping early. Several: the union is at least the
            // largest count, so only build it when no feature alone is over the limit.
            let remaining = maxTiles - total
            let counts = atZoom.map { $0.region.coveringTileCount(zoom: zoom, limit: remaining) }
            var count = counts.max() ?? 0
            if atZoom.count > 1 && count <= remaining {
                var union = ZoomCoverage(zoom: zoom)
                for feature in atZoom { union.formUnion(feature.region.coveringTiles(zoom: zoom)) }
                count = union.tileCount
            }
            tilesPerZoom[zoom] = count
            total += count
            if total > maxTiles {
                throw ServiceError(
                    .tooManyTiles,
                    "the ROI covers more than \(maxTiles) tiles (counted \(total) up to zoom \(zoom)); the limit is \(maxTiles): reduce the area or the resolution"
                )
            }
        }
        let tilePages = tilesPerZoom.reduce(0.0) { $0 + Double($1.value) * pagesPerTile(record: record, zoom: $1.key) }
        let bytes = GeoPackageSizeModel.bytes(tiles: total, tilePages: tilePages)
        return ExportEstimate(
            tiles: total,
            bytes: bytes,
            seconds: Int64((Double(total) / tilesPerSecond).rounded(.up)),
            tilesPerZoom: tilesPerZoom
        )
    }

    /// The full plan: every tile, per zoom.
    public func plan(record: CatalogRecord, roi: [ROIFeature]) throws(ServiceError) -> ExportPlan {
        let features = try regions(record: record, roi: roi)
        let minZoom = features.map(\.zooms.lowerBound).min() ?? 0
        let maxZoom = features.map(\.zooms.upperBound).max() ?? 0
        var zooms: [ZoomCoverage] = []
        for zoom in 0...maxZoom {
            var coverage = ZoomCoverage(zoom: zoom)
            for feature in features where feature.zooms.contains(zoom) {
                coverage.formUnion(feature.region.coveringTiles(zoom: zoom))
            }
            zooms.append(coverage)
        }
        let roiBounds = roi.flatMap(\.polygons).flatMap(\.exterior).reduce(nil as BoundingBox?) { box, position in
            let point = BoundingBox(minX: position.longitude, minY: position.latitude, maxX: position.longitude, maxY: position.latitude)
            return box?.union(point) ?? point
        }!
        let productBounds = features.compactMap(\.region.bounds).reduce(nil as BoundingBox?) { $0?.union($1) ?? $1 }!
        return ExportPlan(
            zooms: zooms,
            minZoom: minZoom,
            maxZoom: maxZoom,
            footprint: features.flatMap(\.region.polygons),
            roiBounds: roiBounds,
            productBounds: productBounds
        )
    }

    /// The pages a tile of the record at `zoom` takes in a package: measured per tile when the record was added, else
    /// from the average size.
    func pagesPerTile(record: CatalogRecord, zoom: Int) -> Double {
        let measured = record.statistics.filter { $0.tiles > 0 && $0.pages != nil }
        if let nearest = measured.min(by: { abs($0.zoom - zoom) < abs($1.zoom - zoom) }), let pages = nearest.pages {
            return pages / Double(nearest.tiles)
        }
        return GeoPackageSizeModel.pages(tileBytes: averageTileBytes(record: record, zoom: zoom))
    }

    /// The average tile size measured for the record at `zoom`, else at the nearest zoom measured, else the default.
    func averageTileBytes(record: CatalogRecord, zoom: Int) -> Int {
        let measured = record.statistics.filter { $0.tiles > 0 }
        guard let nearest = measured.min(by: { abs($0.zoom - zoom) < abs($1.zoom - zoom) }) else { return defaultTileBytes }
        return max(1, nearest.bytes / nearest.tiles)
    }
}
