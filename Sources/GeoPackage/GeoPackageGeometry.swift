import Foundation
import GeoJSON

/// GeoPackage geometry blobs (OGC 12-128r18 §2.1.3): the `GP` header with an XY envelope, then standard little-endian
/// WKB (ISO 13249-3, 2D). Used by the features tables a replication mirror writes (issue #14), which GDAL and QGIS read.
public enum GeoPackageGeometry {
    /// The blob of a geometry in `srsId` (4326 for WGS84 longitude/latitude).
    public static func blob(_ geometry: GeoJSONGeometry, srsId: Int32 = 4326) -> [UInt8] {
        var out: [UInt8] = [0x47, 0x50, 0, 0]
        let envelope = self.envelope(geometry)
        // Flags: little-endian (bit 0), envelope [minx, maxx, miny, maxy] (indicator 1, bits 1–3); an empty geometry
        // (bit 4) has no envelope.
        out[3] = envelope == nil ? 0b0001_0001 : 0b0000_0011
        append(UInt32(bitPattern: srsId), to: &out)
        if let envelope {
            for value in [envelope.minX, envelope.maxX, envelope.minY, envelope.maxY] { append(value, to: &out) }
        }
        writeWKB(geometry, into: &out)
        return out
    }

    /// The geometry of a blob this type (or GDAL, 2D) wrote.
    public static func geometry(_ blob: [UInt8]) throws(GeoPackageError) -> GeoJSONGeometry {
        var reader = WKBReader(bytes: blob, offset: try wkbOffset(blob))
        return try reader.geometry()
    }

    /// The envelope stored in a blob's header, or nil when it has none or the geometry is empty (`ST_MinX` and its
    /// siblings, which the R-tree triggers call).
    public static func headerEnvelope(_ blob: [UInt8]) -> (minX: Double, maxX: Double, minY: Double, maxY: Double)? {
        guard blob.count >= 8, blob[0] == 0x47, blob[1] == 0x50 else { return nil }
        let flags = blob[3]
        guard flags & 0b0001_0000 == 0, (flags >> 1) & 0b111 >= 1, blob.count >= 40 else { return nil }
        let little = flags & 1 == 1
        func double(_ at: Int) -> Double {
            var bits: UInt64 = 0
            for index in 0..<8 { bits |= UInt64(blob[at + index]) << (8 * UInt64(index)) }
            return Double(bitPattern: little ? bits : bits.byteSwapped)
        }
        return (double(8), double(16), double(24), double(32))
    }

    /// A blob's envelope for the R-tree: its header's, or computed from its geometry when the header has none (another
    /// writer's blob); nil for an empty or unreadable geometry.
    public static func blobEnvelope(_ blob: [UInt8]) -> (minX: Double, maxX: Double, minY: Double, maxY: Double)? {
        if let stored = headerEnvelope(blob) { return stored }
        guard !isEmpty(blob), let geometry = try? geometry(blob), let box = envelope(geometry) else { return nil }
        return (box.minX, box.maxX, box.minY, box.maxY)
    }

    /// Whether the blob says its geometry is empty.
    public static func isEmpty(_ blob: [UInt8]) -> Bool {
        blob.count < 4 || blob[3] & 0b0001_0000 != 0
    }

    static func wkbOffset(_ blob: [UInt8]) throws(GeoPackageError) -> Int {
        guard blob.count >= 8, blob[0] == 0x47, blob[1] == 0x50 else { throw GeoPackageError("not a GeoPackage geometry blob") }
        let sizes = [0, 32, 48, 48, 64]
        let indicator = Int((blob[3] >> 1) & 0b111)
        guard indicator < sizes.count else { throw GeoPackageError("geometry blob envelope indicator \(indicator) is not defined") }
        return 8 + sizes[indicator]
    }

    /// The geometry's bounds; nil when it has no position.
    public static func envelope(_ geometry: GeoJSONGeometry) -> (minX: Double, minY: Double, maxX: Double, maxY: Double)? {
        var minX = Double.infinity, minY = Double.infinity, maxX = -Double.infinity, maxY = -Double.infinity
        func visit(_ positions: [Position]) {
            for position in positions {
                minX = min(minX, position.longitude)
                maxX = max(maxX, position.longitude)
                minY = min(minY, position.latitude)
                maxY = max(maxY, position.latitude)
            }
        }
        switch geometry {
        case .point(let point): visit([point])
        case .multiPoint(let points), .lineString(let points): visit(points)
        case .multiLineString(let lines): lines.forEach(visit)
        case .polygon(let polygon): polygon.rings.forEach(visit)
        case .multiPolygon(let polygons): polygons.forEach { $0.rings.forEach(visit) }
        }
        return minX <= maxX ? (minX, minY, maxX, maxY) : nil
    }

    private static func writeWKB(_ geometry: GeoJSONGeometry, into out: inout [UInt8]) {
        func header(_ type: UInt32) {
            out.append(1)
            append(type, to: &out)
        }
        func points(_ positions: [Position]) {
            append(UInt32(positions.count), to: &out)
            for position in positions {
                append(position.longitude, to: &out)
                append(position.latitude, to: &out)
            }
        }
        func polygon(_ polygon: PolygonCoordinates) {
            header(3)
            append(UInt32(polygon.rings.count), to: &out)
            polygon.rings.forEach(points)
        }
        switch geometry {
        case .point(let point):
            header(1)
            append(point.longitude, to: &out)
            append(point.latitude, to: &out)
        case .lineString(let line):
            header(2)
            points(line)
        case .polygon(let value):
            polygon(value)
        case .multiPoint(let values):
            header(4)
            append(UInt32(values.count), to: &out)
            for value in values {
                header(1)
                append(value.longitude, to: &out)
                append(value.latitude, to: &out)
            }
        case .multiLineString(let lines):
            header(5)
            append(UInt32(lines.count), to: &out)
            for line in lines {
                header(2)
                points(line)
            }
        case .multiPolygon(let polygons):
            header(6)
            append(UInt32(polygons.count), to: &out)
            polygons.forEach(polygon)
        }
    }

    private static func append(_ value: UInt32, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func append(_ value: Double, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.bitPattern.littleEndian) { out.append(contentsOf: $0) }
    }
}

/// Reads 2D WKB of either byte order (GDAL writes little-endian; the standard allows both).
struct WKBReader {
    let bytes: [UInt8]
    var offset: Int
    var little = true

    mutating func geometry() throws(GeoPackageError) -> GeoJSONGeometry {
        let type = try typeHeader()
        switch type {
        case 1: return .point(try position())
        case 2: return .lineString(try positions())
        case 3: return .polygon(try polygon())
        case 4: return .multiPoint(try parts(1) { (r: inout WKBReader) throws(GeoPackageError) in try r.position() })
        case 5: return .multiLineString(try parts(2) { (r: inout WKBReader) throws(GeoPackageError) in try r.positions() })
        case 6: return .multiPolygon(try parts(3) { (r: inout WKBReader) throws(GeoPackageError) in try r.polygon() })
        default: throw GeoPackageError("WKB geometry type \(type) is not a 2D point, line or polygon type")
        }
    }

    private mutating func typeHeader() throws(GeoPackageError) -> UInt32 {
        guard offset < bytes.count else { throw GeoPackageError("WKB ends early") }
        little = bytes[offset] == 1
        offset += 1
        return try uint32()
    }

    private mutating func parts<T>(_ type: UInt32, _ part: (inout WKBReader) throws(GeoPackageError) -> T) throws(GeoPackageError) -> [T] {
        let count = try uint32()
        var result: [T] = []
        for _ in 0..<count {
            guard try typeHeader() == type else { throw GeoPackageError("WKB multi-geometry holds a part of another type") }
            result.append(try part(&self))
        }
        return result
    }

    private mutating func polygon() throws(GeoPackageError) -> PolygonCoordinates {
        let count = try uint32()
        var rings: [[Position]] = []
        for _ in 0..<count { rings.append(try positions()) }
        return PolygonCoordinates(rings: rings)
    }

    private mutating func positions() throws(GeoPackageError) -> [Position] {
        let count = Int(try uint32())
        guard count <= (bytes.count - offset) / 16 else { throw GeoPackageError("WKB ends early") }
        var result: [Position] = []
        result.reserveCapacity(count)
        for _ in 0..<count { result.append(try position()) }
        return result
    }

    private mutating func position() throws(GeoPackageError) -> Position {
        let x = try double()
        return Position(x, try double())
    }

    private mutating func uint32() throws(GeoPackageError) -> UInt32 {
        guard offset + 4 <= bytes.count else { throw GeoPackageError("WKB ends early") }
        var value: UInt32 = 0
        for index in 0..<4 { value |= UInt32(bytes[offset + index]) << (8 * UInt32(index)) }
        offset += 4
        return little ? value : value.byteSwapped
    }

    private mutating func double() throws(GeoPackageError) -> Double {
        guard offset + 8 <= bytes.count else { throw GeoPackageError("WKB ends early") }
        var bits: UInt64 = 0
        for index in 0..<8 { bits |= UInt64(bytes[offset + index]) << (8 * UInt64(index)) }
        offset += 8
        return Double(bitPattern: little ? bits : bits.byteSwapped)
    }
}
