import ExportCore
import Foundation
import GeoJSON
import Geometry
import JSONValues
import MapDepotCore
import PropertyBased
import Testing
import TestSupport
import TileGrid

/// Issue #9: mutated export requests through validation, the dedup key and the planner (where `1e-320` trapped).
/// Each either is refused with a `ServiceError` or plans; none crashes.
@Suite struct RequestFuzzTests {
    static var count: Int { Int(ProcessInfo.processInfo.environment["MAPDEPOT_FUZZ_INPUTS"] ?? "") ?? 2_000 }

    static let seed = Array(#"{"catalogRecordID":"6f4c3a52-4b6e-4d8e-9a55-0a1f2b3c4d5e","domain":"RASTER","artifactCRS":"4326","webhooks":[{"url":"https://example.com/h","events":["TASK_COMPLETED"]}],"ROI":{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"maxResolutionDeg":0.0439453125,"minResolutionDeg":0.703125},"geometry":{"type":"MultiPolygon","coordinates":[[[[-5,42],[8,42],[8,51],[-5,51],[-5,42]],[[0,45],[1,45],[1,46],[0,45]]],[[[10,40],[12,40],[11,43],[10,40]]]]}}]}}"#.utf8)

    static let record = CatalogRecord(
        id: UUID(), productId: "p", productName: "p", productVersion: "1.0", productType: "Orthophoto", domain: .raster,
        footprint: .polygon(PolygonCoordinates(rings: [[Position(-180, -90), Position(180, -90), Position(180, 90), Position(-180, 90), Position(-180, -90)]])),
        maxResolutionDeg: WorldCRS84Quad.resolution(8), maxResolutionMeter: nil, tileOutputFormat: .png,
        transparency: .transparent, description: nil, source: .directory(path: "/nowhere", scheme: .xyz, format: .png),
        statistics: [ZoomStatistics(zoom: 8, tiles: 10, bytes: 200_000)], createdAt: Date()
    )

    @Test func mutatedRequestsAreRefusedOrPlannedNeverCrash() async {
        let planner = ExportPlanner(maxTiles: 200_000, tilesPerSecond: 5_000)
        await propertyCheck(count: Self.count, input: Gen.int(in: 0...1_000_000).array(of: 3...30)) { edits in
            let bytes = Mutation.apply(edits, to: Self.seed)
            guard let json = try? JSONValue.parse(Data(bytes)) else { return }
            do {
                let request = try ExportRequest(json: json)
                _ = request.dedupKey(recordMaxResolutionDeg: Self.record.maxResolutionDeg)
                _ = try planner.estimate(record: Self.record, roi: request.roi)
            } catch let error as ServiceError {
                #expect(!error.message.isEmpty)
            } catch {
                Issue.record("not a ServiceError: \(error)")
            }
        }
    }

    /// The resolutions that trapped, and their neighbours, in every position.
    @Test(arguments: ["1e-320", "5e-324", "0", "-1", "1e308", "1e-300", "0.703125", "1.4", "2.2250738585072014e-308"])
    func extremeResolutionsAreRefusedOrPlanned(text: String) throws {
        for key in ["maxResolutionDeg", "minResolutionDeg"] {
            let body = #"{"catalogRecordID":"6f4c3a52-4b6e-4d8e-9a55-0a1f2b3c4d5e","domain":"RASTER","artifactCRS":"4326","webhooks":[],"ROI":{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"\#(key)":\#(text)},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}}]}}"#
            do {
                let request = try ExportRequest(json: try JSONValue.parse(Data(body.utf8)))
                _ = request.dedupKey(recordMaxResolutionDeg: Self.record.maxResolutionDeg)
                _ = try ExportPlanner(maxTiles: 10_000_000, tilesPerSecond: 5_000).estimate(record: Self.record, roi: request.roi)
            } catch let error as ServiceError {
                #expect(error.kind == .invalid, "\(key) \(text): \(error)")
            }
        }
    }
}
