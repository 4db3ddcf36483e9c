import Foundation
import GeoJSON
import JSONValues
import MapDepotCore
import ReplicationCore
import Testing

@Suite struct DeltaRuleTests {
    func state(_ id: String, x: Double = 1, _ properties: [String: JSONValue]) -> FeatureState {
        FeatureState(id: id, geometry: .point(Position(x, 2)), properties: properties)
    }

    @Test func newFeatureHasGeometryChangedAndEveryKey() throws {
        let entry = try DeltaRule.entry(before: nil, after: state("a", ["b": .number(1), "a": .string("x")]))
        #expect(entry == .upsert(state("a", ["b": .number(1), "a": .string("x")]), FeatureDiff(isGeometryChanged: true, changedTags: ["a", "b"])))
    }

    @Test func changedTagsListAddedRemovedAndChangedKeys() throws {
        let before = state("a", ["same": .number(1), "changed": .string("x"), "removed": .bool(true)])
        let after = state("a", x: 1, ["same": .number(1), "changed": .string("y"), "added": .null])
        guard case .upsert(_, let diff)? = try DeltaRule.entry(before: before, after: after) else {
            Issue.record("expected an upsert")
            return
        }
        #expect(diff == FeatureDiff(isGeometryChanged: false, changedTags: ["added", "changed", "removed"]))
        guard case .upsert(_, let moved)? = try DeltaRule.entry(before: before, after: state("a", x: 5, ["same": .number(1), "changed": .string("x"), "removed": .bool(true)])) else {
            Issue.record("expected an upsert")
            return
        }
        #expect(moved == FeatureDiff(isGeometryChanged: true, changedTags: []))
    }

    @Test func restoredAndNeverAliveFeaturesAppearNowhere() throws {
        #expect(try DeltaRule.entry(before: state("a", ["k": .number(1)]), after: state("a", ["k": .number(1)])) == nil)
        #expect(try DeltaRule.entry(before: nil, after: nil) == nil)
        #expect(try DeltaRule.entry(before: state("a", [:]), after: nil) == .delete("a"))
    }

    @Test func polygonsAreStoredRightHanded() throws {
        let clockwise = PolygonCoordinates(rings: [[Position(0, 0), Position(0, 1), Position(1, 1), Position(1, 0), Position(0, 0)]])
        let state = FeatureState(id: "p", geometry: .polygon(clockwise), properties: [:])
        #expect(state.geometry == #"{"coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]],"type":"Polygon"}"#)
    }
}

@Suite struct ChangeSetTests {
    let layer = Layer(layerId: 1, layerName: "l", geometryTypes: [.point], createdAt: Date(), sourceId: UUID())

    @Test(arguments: [
        (#"{"upserts":{"type":"FeatureCollection","features":[{"type":"Feature","id":"a","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]}}"#, "is a Polygon (polygon), which layer 1 does not hold"),
        (#"{"upserts":{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[0,0]}}]}}"#, "upserts.features[0].id must be a non-empty string"),
        (#"{"upserts":{"type":"FeatureCollection","features":[{"type":"Feature","id":7,"properties":{},"geometry":{"type":"Point","coordinates":[0,0]}}]}}"#, "upserts.features[0].id must be a non-empty string"),
        (#"{"upserts":{"type":"FeatureCollection","features":[{"type":"Feature","id":"a","properties":{},"geometry":{"type":"Point","coordinates":[0,0]}}]},"deletes":["a"]}"#, #"deletes[0]: feature id "a" appears twice in one request (first at upserts.features[0])"#),
        (#"{"deletes":["a","a"]}"#, #"deletes[1]: feature id "a" appears twice"#),
        (#"{"deletes":[1]}"#, "deletes[0] must be a non-empty string"),
        (#"{"upserts":{"type":"FeatureCollection","features":[{"type":"Feature","id":"a","properties":{},"geometry":{"type":"Point","coordinates":[500,0]}}]}}"#, "upserts.features[0].geometry.coordinates: longitude 500.0 is outside"),
        (#"{"upserts":{"type":"Feature"}}"#, #"upserts.type: must be "FeatureCollection""#),
        (#"{}"#, "a change needs at least one upsert or delete"),
        (#"{"deletes":["a"],"extra":1}"#, "extra is not an allowed field"),
    ])
    func refuses(body: String, message: String) throws {
        let json = try JSONValue.parse(Data(body.utf8))
        do {
            _ = try ChangeSet(json: json, layer: layer)
            Issue.record("accepted \(body)")
        } catch {
            #expect(error.message.contains(message), "\(error.message)")
        }
    }
}

@Suite struct ReplicaQueryParsingTests {
    static let full = ["layer_id": "1", "geometry_type": "point", "replica_type": "delta"]

    static func with(_ changes: [String: String?]) -> [String: String] {
        var result = full
        for (key, value) in changes { result[key] = value }
        return result
    }

    /// replica-server's express-openapi-validator texts (replication-anchors §1.1).
    @Test(arguments: [
        (with(["geometry_type": nil]), "request/query must have required property 'geometry_type'"),
        (with(["replica_type": nil]), "request/query must have required property 'replica_type'"),
        (with(["layer_id": nil]), "request/query must have required property 'layer_id'"),
        (with(["layer_id": "abc"]), "request/query/layer_id must be number"),
        (with(["geometry_type": "multipoint"]), "request/query/geometry_type must be equal to one of the allowed values: point, linestring, polygon"),
        (with(["replica_type": "full"]), "request/query/replica_type must be equal to one of the allowed values: snapshot, delta"),
        (with(["exclusive_from": "yesterday"]), #"request/query/exclusive_from must match format "date-time""#),
        (with(["to": "2024-01-01"]), #"request/query/to must match format "date-time""#),
        (with(["sort": "up"]), "request/query/sort must be equal to one of the allowed values: asc, desc"),
    ])
    func refuses(parameters: [String: String], message: String) {
        #expect(throws: ServiceError.invalid(message)) { try ReplicaQuery(parameters: parameters) }
    }

    @Test func acceptsRFC3339WithOffsetsAndFractions() throws {
        let query = try ReplicaQuery(parameters: Self.with(["exclusive_from": "2026-01-01T10:00:00.5+02:00", "to": "2026-01-02T00:00:00Z", "sort": "asc"]))
        #expect(query.exclusiveFrom == Date(timeIntervalSince1970: 1_767_254_400.5))
        #expect(query.ascending)
    }
}
