import Foundation
import GeoJSON
import Geometry
import JSONValues
import Testing
import TestSupport
import TileGrid

@Suite struct WorldCRS84QuadTests {
    @Test func zoomFromResolutionFollowsTheMapColoniesRule() {
        #expect(WorldCRS84Quad.zoom(forResolution: 0.703125) == 0)
        #expect(WorldCRS84Quad.zoom(forResolution: 0.3515625) == 1)
        #expect(WorldCRS84Quad.zoom(forResolution: 0.5) == 0)
        #expect(WorldCRS84Quad.zoom(forResolution: 0.0439453125) == 4)
        #expect(WorldCRS84Quad.zoom(forResolution: 3.35276126861572e-7) == 21)
        #expect(WorldCRS84Quad.zoom(forResolution: 1.67638063430786e-7) == 22)
        #expect(WorldCRS84Quad.zoom(forResolution: 1.0) == -1)
    }

    /// Issue #9: these numbers trapped the server (`Int(inf)`, `Int(nan)`); now they read as outside the grid.
    /// Written as text, as a client sends them (the compiler would round the subnormal literals).
    @Test(arguments: ["1e-320", "5e-324", "0", "-1", "-0.0", "inf", "-inf", "nan", "1e-300", "1e300"])
    func zoomFromAnyResolutionIsTotal(text: String) throws {
        let resolution = try #require(Double(text))
        let zoom = WorldCRS84Quad.zoom(forResolution: resolution)
        #expect((-1...WorldCRS84Quad.maxZoom + 1).contains(zoom))
        #expect(!(0...WorldCRS84Quad.maxZoom).contains(zoom))
    }

    @Test func gridShape() {
        #expect(WorldCRS84Quad.matrixWidth(0) == 2)
        #expect(WorldCRS84Quad.matrixHeight(0) == 1)
        #expect(WorldCRS84Quad.matrixWidth(4) == 32)
        let tile = WorldCRS84Quad.bounds(zoom: 1, column: 0, row: 0)
        #expect(tile == BoundingBox(minX: -180, minY: 0, maxX: -90, maxY: 90))
    }

    @Test func zoomCoverageMergesRuns() {
        var coverage = ZoomCoverage(zoom: 3)
        coverage.insert(row: 1, columns: 0..<3)
        coverage.insert(row: 1, columns: 5..<7)
        coverage.insert(row: 1, columns: 3..<5)
        coverage.insert(row: 1, columns: 2..<4)
        #expect(coverage.rows[1] == [0..<7])
        coverage.insert(row: 1, columns: 9..<10)
        #expect(coverage.rows[1] == [0..<7, 9..<10])
        #expect(coverage.tileCount == 8)
        #expect(coverage.contains(column: 9, row: 1))
        #expect(!coverage.contains(column: 8, row: 1))
    }
}

/// The planner's quadtree against a tile-by-tile check, on real polygons.
@Suite struct CoverageTests {
    /// The brute force runs on a thread of its own: seconds of CPU on one of the two cooperative threads would stall
    /// every suite of the parallel pass (DeadlineTests' 200 ms watchdog fired after 6 s while these ran).
    @Test func everyNaturalEarthCountryMatchesBruteForce() async throws {
        let countries = try Fixtures.countries()
        let mismatches = try await OwnThread.run { () -> [String] in
            var mismatches: [String] = []
            for country in countries {
                let region = Region(polygons: country.geometry?.polygons ?? [])
                for zoom in 0...5 {
                    let slow = region.coveringTilesBruteForce(zoom: zoom)
                    if region.coveringTiles(zoom: zoom) != slow || region.coveringTileCount(zoom: zoom) != slow.tileCount {
                        mismatches.append("\(country.properties?["name"] ?? .null) zoom \(zoom)")
                    }
                }
            }
            return mismatches
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
        #expect(countries.count > 150)
    }

    @Test(arguments: ["Fiji", "Russia", "France", "Indonesia", "United States of America", "Chile"])
    func hardShapesAtHigherZoomsMatchBruteForce(name: String) async throws {
        let region = Region(polygons: try Fixtures.country(name).geometry?.polygons ?? [])
        let mismatched = try await OwnThread.run { (6...8).filter { region.coveringTiles(zoom: $0) != region.coveringTilesBruteForce(zoom: $0) } }
        #expect(mismatched.isEmpty, "\(name) zooms \(mismatched)")
    }

    @Test func fijiTouchesBothEdgesOfTheWorld() throws {
        let region = Region(polygons: try Fixtures.country("Fiji").geometry?.polygons ?? [])
        let coverage = region.coveringTiles(zoom: 6)
        let columns = coverage.tiles.map(\.column)
        #expect(columns.contains(0))
        #expect(columns.contains(WorldCRS84Quad.matrixWidth(6) - 1))
    }

    @Test func exactCoverageIsSmallerThanTheBoundingBox() throws {
        let region = Region(polygons: try Fixtures.country("Chile").geometry?.polygons ?? [])
        let zoom = 8
        let bounds = try #require(region.bounds)
        let range = WorldCRS84Quad.tileRange(zoom: zoom, covering: bounds)
        #expect(region.coveringTiles(zoom: zoom).tileCount < range.columns.count * range.rows.count / 2)
    }

    @Test func tilesTouchingOnlyAnEdgeAreNotCovered() {
        // Exactly one zoom-1 tile: the ROI touches its neighbours along edges only.
        let tile = WorldCRS84Quad.bounds(zoom: 1, column: 1, row: 0)
        let region = Region(box: tile)
        let coverage = region.coveringTiles(zoom: 1)
        #expect(coverage.tiles == [TileCoordinate(zoom: 1, column: 1, row: 0)])
        #expect(region.coveringTiles(zoom: 3).tileCount == 16)
    }

    @Test func countingStopsPastTheLimit() {
        let region = Region(box: BoundingBox(minX: -180, minY: -90, maxX: 180, maxY: 90))
        #expect(region.coveringTileCount(zoom: 12) == 8192 * 4096)
        #expect(region.coveringTileCount(zoom: 20, limit: 1000) > 1000)
    }
}
