import Foundation
import JSONValues

extension FeatureCollection {
    /// Decodes a FeatureCollection document straight from its bytes: the same features, and the same errors, as
    /// ``JSONValue/parse(_:)`` followed by ``init(json:path:)``, without the tree of dictionaries and arrays for every
    /// geometry (issue #15: building and freeing that tree was most of reading a replica's GeoJSON).
    ///
    /// The fast reader takes only what it is sure of (well-formed JSON, members once each, every geometry valid); at the
    /// first doubt it gives up and the document is decoded through the tree, which then names what is wrong.
    public init(data: Data, path: String) throws {
        let fast = data.withUnsafeBytes { raw in
            var reader = FeatureCollectionReader(parser: JSONParser(bytes: raw.bindMemory(to: UInt8.self)))
            return try? reader.document()
        }
        if let fast {
            self.init(features: fast)
        } else {
            try self.init(json: try JSONValue.parse(data), path: path)
        }
    }
}

extension FeatureCollection {
    /// The fast reader alone, for a decoder of a larger document (a change set's `upserts`) that starts over through the
    /// tree when this gives up: the FeatureCollection value at `parser`'s position, or nil (and the parser anywhere).
    public static func fastValue(_ parser: inout JSONParser) -> FeatureCollection? {
        var reader = FeatureCollectionReader(parser: parser)
        guard let features = try? reader.collection() else { return nil }
        parser = reader.parser
        return FeatureCollection(features: features)
    }
}

/// The fast reader behind ``FeatureCollection/init(data:path:)``: it throws ``Decline`` (or the parser's error) for
/// anything it does not take, and the caller starts over with the tree.
struct FeatureCollectionReader {
    var parser: JSONParser

    /// What the reader throws where it gives up (the parser's own "not the shape expected").
    typealias Decline = JSONParser.Unexpected

    mutating func document() throws -> [Feature] {
        let features = try collection()
        parser.skipWhitespace()
        guard parser.index == parser.bytes.count else { throw Decline() }
        return features
    }

    /// A FeatureCollection object at the parser's position.
    mutating func collection() throws -> [Feature] {
        parser.skipWhitespace()
        var features: [Feature]?
        var typed = false
        var members: [String] = []
        try parser.beginObject()
        while let key = try parser.nextMember(&members) {
            switch key {
            case "type":
                guard try parser.expectString() == "FeatureCollection" else { throw Decline() }
                typed = true
            case "features":
                var list: [Feature] = []
                try parser.beginArray()
                var first = true
                while try parser.nextElement(&first) { list.append(try feature()) }
                features = list
            default:
                _ = try parser.value()
            }
        }
        guard typed, let features else { throw Decline() }
        return features
    }

    mutating func feature() throws -> Feature {
        var typed = false
        var geometry: GeoJSONGeometry??
        var properties: [String: JSONValue]?
        var id: JSONValue?
        var members: [String] = []
        try parser.beginObject()
        while let key = try parser.nextMember(&members) {
            switch key {
            case "type":
                guard try parser.expectString() == "Feature" else { throw Decline() }
                typed = true
            case "geometry":
                if parser.peek(UInt8(ascii: "{")) {
                    geometry = .some(try self.geometry())
                } else {
                    guard try parser.value() == .null else { throw Decline() }
                    geometry = .some(nil)
                }
            case "properties":
                switch try parser.value() {
                case .object(let members): properties = members
                case .null: properties = nil
                default: throw Decline()
                }
            case "id":
                switch try parser.value() {
                case .string(let text): id = .string(text)
                case .number(let number): id = .number(number)
                default: throw Decline()
                }
            default:
                _ = try parser.value()
            }
        }
        guard typed, let geometry else { throw Decline() }
        return Feature(id: id, geometry: geometry, properties: properties)
    }

    /// A geometry object; its `coordinates` may come before its `type` (canonical JSON sorts them so), so they are read
    /// into a ``Shape`` first and typed after.
    mutating func geometry() throws -> GeoJSONGeometry {
        var type: String?
        var shape: Shape?
        var members: [String] = []
        try parser.beginObject()
        while let key = try parser.nextMember(&members) {
            switch key {
            case "type": type = try parser.expectString()
            case "coordinates":
                var read = Shape()
                try coordinates(level: 0, into: &read)
                shape = read
            default: _ = try parser.value()
            }
        }
        guard let type, let shape else { throw Decline() }
        return try shape.geometry(type)
    }

    /// Nested arrays of positions, flattened: every position in order, and for each level above them the lengths of
    /// its arrays in order.
    struct Shape {
        /// The level of the positions: 0 when the coordinates are one position.
        var depth: Int?
        var positions: [Position] = []
        var counts: [[Int]] = []

        func geometry(_ type: String) throws -> GeoJSONGeometry {
            switch (type, depth) {
            case ("Point", 0?): return .point(positions[0])
            case ("MultiPoint", 1?): return .multiPoint(positions)
            case ("LineString", 1?):
                guard positions.count >= 2 else { throw Decline() }
                return .lineString(positions)
            case ("MultiLineString", 2?):
                let lines = split(counts[1])
                guard lines.allSatisfy({ $0.count >= 2 }) else { throw Decline() }
                return .multiLineString(lines)
            case ("Polygon", 2?):
                return .polygon(try polygon(split(counts[1])))
            case ("MultiPolygon", 3?):
                let rings = split(counts[2])
                var polygons: [PolygonCoordinates] = []
                polygons.reserveCapacity(counts[1].count)
                var next = 0
                for ringCount in counts[1] {
                    polygons.append(try polygon(Array(rings[next..<next + ringCount])))
                    next += ringCount
                }
                return .multiPolygon(polygons)
            default: throw Decline()
            }
        }

        func split(_ lengths: [Int]) -> [[Position]] {
            var lists: [[Position]] = []
            lists.reserveCapacity(lengths.count)
            var next = 0
            for length in lengths {
                lists.append(Array(positions[next..<next + length]))
                next += length
            }
            return lists
        }

        func polygon(_ rings: [[Position]]) throws -> PolygonCoordinates {
            guard rings.allSatisfy({ $0.count >= 4 && $0.first == $0.last }) else { throw Decline() }
            return PolygonCoordinates(rings: rings)
        }
    }

    /// One array of `coordinates` at `level`: a position (numbers), or a non-empty array of arrays, all of whose
    /// positions sit at the same level.
    mutating func coordinates(level: Int, into shape: inout Shape) throws {
        try parser.beginArray()
        parser.skipWhitespace()
        if parser.atNumber {
            guard shape.depth == nil || shape.depth == level else { throw Decline() }
            shape.depth = level
            shape.positions.append(try position())
            return
        }
        var first = true
        var count = 0
        while try parser.nextElement(&first) {
            guard parser.peek(UInt8(ascii: "[")) else { throw Decline() }
            try coordinates(level: level + 1, into: &shape)
            count += 1
        }
        guard count > 0 else { throw Decline() }
        while shape.counts.count <= level { shape.counts.append([]) }
        shape.counts[level].append(count)
    }

    /// The rest of a position's array after its `[`: two or three numbers, longitude and latitude in range.
    mutating func position() throws -> Position {
        let longitude = try parser.number()
        try comma()
        let latitude = try parser.number()
        parser.skipWhitespace()
        if parser.peek(UInt8(ascii: ",")) {
            parser.index += 1
            parser.skipWhitespace()
            guard parser.atNumber else { throw Decline() }
            _ = try parser.number()
            parser.skipWhitespace()
        }
        guard parser.peek(UInt8(ascii: "]")) else { throw Decline() }
        parser.index += 1
        parser.depth -= 1
        guard (-180...180).contains(longitude), (-90...90).contains(latitude) else { throw Decline() }
        return Position(longitude, latitude)
    }

    mutating func comma() throws {
        parser.skipWhitespace()
        guard parser.peek(UInt8(ascii: ",")) else { throw Decline() }
        parser.index += 1
        parser.skipWhitespace()
    }
}
