import GeoJSON
import MapDepotCore

extension CanonicalJSON {
    /// The canonical text of a geometry, written straight from its positions: byte for byte
    /// `CanonicalJSON.text(geometry.json)` (`{"coordinates":…,"type":"…"}`, the keys sorted), without the tree of JSON
    /// arrays that one builds and frees for every position (issue #15: a feature's geometry text is computed for every
    /// state the server stores and every feature a mirror reads).
    public static func text(_ geometry: GeoJSONGeometry) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        bytes.append(contentsOf: #"{"coordinates":"#.utf8)
        func position(_ position: Position) {
            bytes.append(UInt8(ascii: "["))
            writeNumber(position.longitude, into: &bytes)
            bytes.append(UInt8(ascii: ","))
            writeNumber(position.latitude, into: &bytes)
            bytes.append(UInt8(ascii: "]"))
        }
        func list<Element>(_ elements: [Element], _ write: (Element) -> Void) {
            bytes.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                write(element)
            }
            bytes.append(UInt8(ascii: "]"))
        }
        func polygon(_ polygon: PolygonCoordinates) { list(polygon.rings) { list($0, position) } }
        switch geometry {
        case .point(let point): position(point)
        case .multiPoint(let positions), .lineString(let positions): list(positions, position)
        case .multiLineString(let lines): list(lines) { list($0, position) }
        case .polygon(let value): polygon(value)
        case .multiPolygon(let values): list(values, polygon)
        }
        bytes.append(contentsOf: #","type":""#.utf8)
        bytes.append(contentsOf: geometry.typeName.utf8)
        bytes.append(contentsOf: #""}"#.utf8)
        return String(decoding: bytes, as: UTF8.self)
    }
}
