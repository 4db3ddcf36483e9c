import GeoJSON
import JSONValues
import MapDepotCore
import ReplicationCore
import Testing
import TestSupport

/// The geometry text written straight from positions (issue #15) is the canonical text of the geometry's JSON tree,
/// byte for byte: stored states, layer hashes and the mirrors' checks all depend on that text.
@Suite struct CanonicalGeometryTests {
    @Test func everyCountryAndEveryTypeWritesAsItsTree() throws {
        var geometries = try Fixtures.countries().compactMap(\.geometry)
        let awkward = [-0.0, 0, 1e-7, Double.leastNonzeroMagnitude, 123.456, -179.99999999999997, 9.0e15, 8_999_999_999_999_999, 1e21, 90]
        let positions = zip(awkward, awkward.reversed()).map { Position($0, $1) }
        geometries += [
            .point(positions[0]), .multiPoint(positions), .multiPoint([]), .lineString(positions), .multiLineString([positions, positions.reversed()]),
            .polygon(PolygonCoordinates(rings: [positions + [positions[0]]])),
            .multiPolygon([PolygonCoordinates(rings: [positions + [positions[0]], Array(positions.prefix(3)) + [positions[0]]])]),
        ]
        #expect(geometries.count > 150)
        for geometry in geometries {
            #expect(CanonicalJSON.text(geometry) == CanonicalJSON.text(geometry.json))
        }
    }
}
