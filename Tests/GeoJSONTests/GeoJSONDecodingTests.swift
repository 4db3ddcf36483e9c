import Foundation
import GeoJSON
import JSONValues
import Testing
import TestSupport

@Suite struct GeoJSONDecodingTests {
    func geometry(_ text: String) throws -> GeoJSONGeometry {
        try GeoJSONGeometry(json: try JSONValue.parse(Data(text.utf8)), path: "g")
    }

    func error(_ text: String) -> String? {
        do {
            _ = try geometry(text)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func decodesPolygonWithHole() throws {
        let polygon = try geometry(
            #"{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[2,2],[2,4],[4,4],[2,2]]]}"#
        )
        #expect(polygon.polygons.count == 1)
        #expect(polygon.polygons[0].rings.count == 2)
        #expect(polygon.polygons[0].exterior[1] == Position(10, 0))
    }

    @Test func decodesEveryType() throws {
        #expect(try geometry(#"{"type":"Point","coordinates":[1,2]}"#) == .point(Position(1, 2)))
        #expect(try geometry(#"{"type":"Point","coordinates":[1,2,3]}"#) == .point(Position(1, 2)))
        #expect(try geometry(#"{"type":"LineString","coordinates":[[1,2],[3,4]]}"#).typeName == "LineString")
        #expect(try geometry(#"{"type":"MultiPoint","coordinates":[[1,2]]}"#).typeName == "MultiPoint")
        #expect(try geometry(#"{"type":"MultiLineString","coordinates":[[[1,2],[3,4]]]}"#).typeName == "MultiLineString")
        let multi = try geometry(#"{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[5,5],[6,5],[6,6],[5,5]]]]}"#)
        #expect(multi.polygons.count == 2)
    }

    @Test(arguments: [
        (#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}"#, "g.coordinates[0]: the ring is not closed"),
        (#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}"#, "g.coordinates[0]: a linear ring needs at least 4 positions, found 3"),
        (#"{"type":"Polygon","coordinates":[[[0,0],[181,0],[1,1],[0,0]]]}"#, "g.coordinates[0][1]: longitude 181.0 is outside [-180, 180]"),
        (#"{"type":"Polygon","coordinates":[[[0,0],[1,-91],[1,1],[0,0]]]}"#, "g.coordinates[0][1]: latitude -91.0 is outside [-90, 90]"),
        (#"{"type":"Polygon","coordinates":[[[0,"a"],[1,0],[1,1],[0,"a"]]]}"#, "g.coordinates[0][0]: a position holds numbers only"),
        (#"{"type":"Polygon","coordinates":[]}"#, "g.coordinates: a polygon needs at least an exterior ring"),
        (#"{"type":"Polygon"}"#, "g.coordinates: is missing"),
        (#"{"type":"Circle","coordinates":[1,2]}"#, #"g.type: "Circle" is not a GeoJSON geometry type"#),
        (#"{"type":"GeometryCollection","geometries":[]}"#, "g.type: GeometryCollection is not supported"),
        (#"{"type":"LineString","coordinates":[[1,2]]}"#, "g.coordinates: a LineString needs at least 2 positions, found 1"),
        (#"[1,2]"#, "g: must be a GeoJSON geometry object, found an array"),
    ])
    func refusesInvalidGeometry(text: String, message: String) {
        #expect(error(text)?.hasPrefix(message) == true, "got \(error(text) ?? "no error")")
    }

    @Test func featureCollectionPathsNameTheFeature() throws {
        let text = #"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[0,0]}},{"type":"Feature","properties":null,"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1]]]}}]}"#
        #expect(throws: GeoJSONError(path: "ROI.features[1].geometry.coordinates[0]", reason: "a linear ring needs at least 4 positions, found 3")) {
            try FeatureCollection(json: try JSONValue.parse(Data(text.utf8)), path: "ROI")
        }
    }

    @Test func roundTripsNaturalEarth() throws {
        let countries = try Fixtures.countries()
        #expect(countries.count == 177)
        for country in countries {
            let again = try Feature(json: country.json, path: "x")
            #expect(again == country)
        }
    }

    @Test func notJSONIsAnError() {
        #expect(throws: GeoJSONError.self) { try JSONValue.parse(Data("{".utf8)) }
    }
}
