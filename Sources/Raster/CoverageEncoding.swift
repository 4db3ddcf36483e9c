/// How a gridded coverage's tiles hold their values (OGC 17-066r1, issue #13).
public enum CoverageEncoding: Sendable, Hashable {
    /// `datatype 'float'`: float32 TIFF tiles, values as they are, `data_null` the nodata value.
    case float32(null: Float)
    /// `datatype 'integer'`: 16-bit PNG tiles, value = stored + `offset` (scale 1), stored 65535 = null. Int16 data
    /// round-trips exactly with offset −32768 (or −32767 when 32767 occurs and −32768 does not).
    case png16(offset: Double)

    public static let pngNull: UInt16 = 65535

    /// The stored form of one tile's values (nil = null).
    public func encode(_ values: [Float?], size: Int) throws(RasterError) -> [UInt8] {
        switch self {
        case .float32(let null):
            return try TIFFFloat32.encode(width: size, height: size, values: values.map { $0 ?? null })
        case .png16(let offset):
            let samples = try values.map { value throws(RasterError) -> UInt16 in
                guard let value else { return Self.pngNull }
                let stored = (Double(value) - offset).rounded()
                guard stored >= 0, stored < Double(Self.pngNull) else {
                    throw RasterError("the value \(value) does not fit a 16-bit PNG tile with offset \(offset)")
                }
                return UInt16(stored)
            }
            return try PNG16.encode(width: size, height: size, samples: samples)
        }
    }

    /// The PNG16 encoding for integer values in `range`, or nil when they cannot all be stored exactly beside the null.
    public static func png16(for range: ClosedRange<Float>) -> CoverageEncoding? {
        guard range.lowerBound.rounded() == range.lowerBound, range.upperBound.rounded() == range.upperBound else { return nil }
        if range.lowerBound >= -32768 && range.upperBound <= 32766 { return .png16(offset: -32768) }
        if range.lowerBound >= -32767 && range.upperBound <= 32767 { return .png16(offset: -32767) }
        return nil
    }
}
