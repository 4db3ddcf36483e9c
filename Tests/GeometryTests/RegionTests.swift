import Foundation
import GeoJSON
import Geometry
import Testing
import TestSupport

@Suite struct RegionTests {
    func square(_ minX: Double, _ minY: Double, _ maxX: Double, _ maxY: Double) -> PolygonCoordinates {
        PolygonCoordinates(rings: [[Position(minX, minY), Position(maxX, minY), Position(maxX, maxY), Position(minX, maxY), Position(minX, minY)]])
    }

    @Test func areaInsideBoxes() {
        let region = Region(polygons: [square(0, 0, 10, 10)])
        #expect(region.area == 100)
        #expect(region.area(in: BoundingBox(minX: 5, minY: 5, maxX: 20, maxY: 20)) == 25)
        #expect(region.area(in: BoundingBox(minX: 10, minY: 0, maxX: 20, maxY: 10)) == 0)
    }

    @Test func holesSubtract() {
        var polygon = square(0, 0, 10, 10)
        polygon.rings.append([Position(2, 2), Position(2, 8), Position(8, 8), Position(8, 2), Position(2, 2)])
        let region = Region(polygons: [polygon])
        #expect(region.area == 64)
        #expect(region.area(in: BoundingBox(minX: 3, minY: 3, maxX: 7, maxY: 7)) == 0)
    }

    @Test func concaveRingsSplitIntoConvexPiecesOfTheSameArea() throws {
        // An L shape and a comb: non-convex rings.
        let l = [Point(0, 0), Point(4, 0), Point(4, 1), Point(1, 1), Point(1, 4), Point(0, 4)]
        let comb = [Point(0, 0), Point(6, 0), Point(6, 3), Point(5, 3), Point(5, 1), Point(4, 1), Point(4, 3), Point(3, 3), Point(3, 1), Point(2, 1), Point(2, 3), Point(0, 3)]
        for ring in [l, comb] {
            let pieces = try #require(Ring.convexPieces(ring))
            #expect(pieces.allSatisfy(Ring.isConvex))
            let sum = pieces.reduce(0) { $0 + Ring.signedArea($1) }
            #expect(abs(sum - Ring.signedArea(ring)) < 1e-12)
        }
    }

    @Test func intersectionWithConcaveFootprintIsExact() throws {
        // Footprint: an L of area 7 (0..4 x 0..1 plus 0..1 x 1..4); ROI: the square 0..2 x 0..2.
        let footprint = PolygonCoordinates(rings: [[Position(0, 0), Position(4, 0), Position(4, 1), Position(1, 1), Position(1, 4), Position(0, 4), Position(0, 0)]])
        let pieces = try Region.convexPieces(of: [footprint])
        let intersection = Region(polygons: [square(0, 0, 2, 2)]).intersection(convexPieces: pieces)
        #expect(abs(intersection.area - 3) < 1e-12)
        #expect(abs(intersection.area(in: BoundingBox(minX: 1, minY: 1, maxX: 2, maxY: 2))) < 1e-12)
    }

    @Test func randomStarPolygonsKeepTheirAreaThroughDecomposition() throws {
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<200 {
            let count = Int.random(in: 3...24, using: &generator)
            let ring = (0..<count).map { index -> Point in
                let angle = Double(index) / Double(count) * 2 * Double.pi
                let radius = Double.random(in: 0.2...1.0, using: &generator)
                return Point(radius * cos(angle), radius * sin(angle))
            }
            let pieces = try #require(Ring.convexPieces(ring))
            let sum = pieces.reduce(0) { $0 + Ring.signedArea($1) }
            #expect(abs(sum - Ring.signedArea(ring)) < 1e-9)
            // Any box: the pieces clipped to it have the ring's clipped area.
            let box = BoundingBox(minX: -0.3, minY: -0.2, maxX: 0.5, maxY: 0.9)
            let clippedPieces = pieces.reduce(0) { $0 + Ring.signedArea(Ring.clip($1, to: box)) }
            #expect(abs(clippedPieces - Ring.signedArea(Ring.clip(ring, to: box))) < 1e-9)
        }
    }

    @Test func polygonsOutputFollowsTheRightHandRule() {
        let region = Region(polygons: [square(0, 0, 1, 1)])
        let output = region.polygons
        #expect(output.count == 1)
        let ring = output[0].exterior.map { Point($0.longitude, $0.latitude) }
        #expect(Ring.signedArea(Ring.open(ring)) > 0)
        #expect(output[0].exterior.first == output[0].exterior.last)
    }
}
