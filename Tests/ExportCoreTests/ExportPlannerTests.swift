import ExportCore
import MapDepotCore
import Foundation
import GeoJSON
import GeoPackage
import Geometry
import Testing
import TestSupport
import TileGrid

@Suite struct ExportPlannerTests {
    /// A record over Europe's box, zoom 6 at most.
    let record = CatalogRecord(
        id: UUID(), productId: "p", productName: "p", productVersion: "1.0", productType: "Orthophoto", domain: .raster,
        footprint: .polygon(PolygonCoordinates(rings: [[Position(-10, 35), Position(30, 35), Position(30, 60), Position(-10, 60), Position(-10, 35)]])),
        maxResolutionDeg: WorldCRS84Quad.resolution(6), maxResolutionMeter: nil, tileOutputFormat: .png,
        transparency: .transparent, description: nil, source: .directory(path: "/nowhere", scheme: .xyz, format: .png),
        statistics: [ZoomStatistics(zoom: 6, tiles: 10, bytes: 200_000)], createdAt: Date()
    )

    func feature(_ polygons: [PolygonCoordinates], max: Double? = nil, min: Double? = nil) -> ROIFeature {
        ROIFeature(polygons: polygons, maxResolutionDeg: max, minResolutionDeg: min)
    }

    func box(_ minX: Double, _ minY: Double, _ maxX: Double, _ maxY: Double) -> PolygonCoordinates {
        PolygonCoordinates(rings: [[Position(minX, minY), Position(maxX, minY), Position(maxX, maxY), Position(minX, maxY), Position(minX, minY)]])
    }

    @Test func planIsTheUnionOfFeatureCoverageClippedToTheFootprint() throws {
        let france = try Fixtures.country("France").geometry!.polygons
        let spain = try Fixtures.country("Spain").geometry!.polygons
        let planner = ExportPlanner(maxTiles: 10_000_000, tilesPerSecond: 5_000)
        let plan = try planner.plan(record: record, roi: [feature(france), feature(spain, max: WorldCRS84Quad.resolution(5))])
        #expect(plan.maxZoom == 6)
        #expect(plan.zooms.count == 7)
        let pieces = try Region.convexPieces(of: record.footprint.polygons)
        for zoom in 0...6 {
            var expected = Region(polygons: france).intersection(convexPieces: pieces).coveringTilesBruteForce(zoom: zoom)
            if zoom <= 5 {
                expected.formUnion(Region(polygons: spain).intersection(convexPieces: pieces).coveringTilesBruteForce(zoom: zoom))
            }
            #expect(plan.zooms[zoom] == expected, "zoom \(zoom)")
        }
        // France's overseas parts (French Guiana) lie outside the footprint: no tiles there.
        #expect(!plan.zooms[6].tiles.contains { WorldCRS84Quad.bounds(zoom: 6, column: $0.column, row: $0.row).maxX < -10 })
        let estimate = try planner.estimate(record: record, roi: [feature(france), feature(spain, max: WorldCRS84Quad.resolution(5))])
        #expect(estimate.tiles == plan.tileCount)
        // The package's size: each 20,000-byte tile's share of the pages, the empty package and its index.
        #expect(estimate.bytes == GeoPackageSizeModel.bytes(tiles: plan.tileCount, tilePages: Double(plan.tileCount) * GeoPackageSizeModel.pages(tileBytes: 20_000)))
        #expect(estimate.bytes > Int64(plan.tileCount) * 20_000)
    }

    @Test(arguments: [
        (WorldCRS84Quad.resolution(7), nil as Double?, "is finer than the product's resolution"),
        (WorldCRS84Quad.resolution(3), WorldCRS84Quad.resolution(5), "the minimum resolution must be the coarser one"),
        (1.5, nil, "is outside zoom 0–22"),
        (1e-9, nil, "is outside zoom 0–22"),
    ])
    func refusesResolutions(max: Double, min: Double?, message: String) {
        #expect(throws: ServiceError.self) {
            _ = try ExportPlanner(maxTiles: 10_000_000, tilesPerSecond: 5_000).plan(record: record, roi: [feature([box(0, 40, 5, 45)], max: max, min: min)])
        }
        do {
            _ = try ExportPlanner(maxTiles: 10_000_000, tilesPerSecond: 5_000).plan(record: record, roi: [feature([box(0, 40, 5, 45)], max: max, min: min)])
        } catch {
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test func refusesAnROIOutsideTheFootprint() {
        do {
            _ = try ExportPlanner(maxTiles: 10_000_000, tilesPerSecond: 5_000).estimate(record: record, roi: [feature([box(0, 40, 5, 45)]), feature([box(100, 0, 110, 10)])])
            Issue.record("accepted")
        } catch {
            #expect(error.message == "ROI.features[1] has no intersection with the product's footprint")
        }
    }

    @Test func refusesTooManyTilesWithTheCount() {
        do {
            _ = try ExportPlanner(maxTiles: 100, tilesPerSecond: 5_000).estimate(record: record, roi: [feature([box(-10, 35, 30, 60)])])
            Issue.record("accepted")
        } catch {
            #expect(error.kind == .tooManyTiles)
            #expect(error.message.contains("the limit is 100"))
        }
    }
}
