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
                try parser.beginArray()
                if let list = try featuresOnBothCores() {
                    features = list
                } else {
                    var list: [Feature] = []
                    var first = true
                    while try parser.nextElement(&first) { list.append(try feature()) }
                    features = list
                }
            default:
                _ = try parser.value()
            }
        }
        guard typed, let features else { throw Decline() }
        return features
    }

    /// A large features array (1 MiB or more left, 64 features or more), with the parser just past its `[`, read in two
    /// halves at once (issue #15: one change set was parsed on one core while the other waited). A structural scan finds
    /// where each element starts (strings skipped, brackets counted); each half is then read by its own reader from its
    /// first element, and every gap between elements must be whitespace and one comma, as the sequential walk requires,
    /// so both accept the same documents. nil when the array is small or the scan finds no plain list of objects (the
    /// sequential walk reads it then).
    mutating func featuresOnBothCores() throws -> [Feature]? {
        let bytes = parser.bytes
        guard bytes.count - parser.index >= 1 << 20 else { return nil }
        var starts: [Int] = []
        var level = 0
        var position = parser.index
        var end: Int?
        scan: while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: "\""):
                position += 1
                while position < bytes.count && bytes[position] != UInt8(ascii: "\"") {
                    position += bytes[position] == UInt8(ascii: "\\") ? 2 : 1
                }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                if level == 0 { starts.append(position) }
                level += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if level == 0 {
                    end = position
                    break scan
                }
                level -= 1
            default:
                break
            }
            position += 1
        }
        guard let end, bytes[end] == UInt8(ascii: "]"), starts.count >= 64 else { return nil }
        let halves = [0..<(starts.count / 2), (starts.count / 2)..<starts.count]
        let results = UnsafeMutableBufferPointer<[Feature]?>.allocate(capacity: halves.count)
        results.initialize(repeating: nil)
        defer {
            _ = results.deinitialize()
            results.deallocate()
        }
        let shared = HalvesInFlight(opening: parser, results: results)
        let elementStarts = starts
        DispatchQueue.concurrentPerform(iterations: halves.count) { half in
            let range = halves[half]
            var reader = FeatureCollectionReader(parser: shared.opening)
            var list: [Feature] = []
            list.reserveCapacity(range.count)
            do {
                // Each half checks the gap after each of its elements; the first also the one before element 0.
                if range.lowerBound == 0 {
                    reader.parser.skipWhitespace()
                    guard reader.parser.index == elementStarts[0] else { throw Decline() }
                } else {
                    reader.parser.index = elementStarts[range.lowerBound]
                }
                for element in range {
                    list.append(try reader.feature())
                    reader.parser.skipWhitespace()
                    if element + 1 == elementStarts.count {
                        guard reader.parser.index == end else { throw Decline() }
                    } else {
                        guard reader.parser.peek(UInt8(ascii: ",")) else { throw Decline() }
                        reader.parser.index += 1
                        reader.parser.skipWhitespace()
                        guard reader.parser.index == elementStarts[element + 1] else { throw Decline() }
                    }
                }
                shared.results[half] = list
            } catch {
                shared.results[half] = nil
            }
        }
        guard let first = results[0], let second = results[1] else { throw Decline() }
        parser.index = end + 1
        parser.depth -= 1
        return first + second
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

/// What the two halves of ``FeatureCollectionReader/featuresOnBothCores()`` share.
private struct HalvesInFlight: @unchecked Sendable {
    // @unchecked: `opening` points into the document's bytes, which both halves only read, and which outlive the
    // `concurrentPerform` call (it returns when both halves have ended); each half writes only its own slot of `results`.
    let opening: JSONParser
    let results: UnsafeMutableBufferPointer<[Feature]?>
}
