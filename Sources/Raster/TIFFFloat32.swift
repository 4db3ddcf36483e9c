/// A float32 single-band TIFF tile, the float tiles of a gridded coverage (OGC 17-066r1; `datatype = 'float'`):
/// little-endian, one LZW strip (the extension allows no compression or LZW, Req 18).
public enum TIFFFloat32 {
    public static func encode(width: Int, height: Int, values: [Float]) throws(RasterError) -> [UInt8] {
        precondition(values.count == width * height)
        var raw: [UInt8] = []
        raw.reserveCapacity(values.count * 4)
        for value in values {
            let bits = value.bitPattern
            raw += [UInt8(bits & 0xFF), UInt8(bits >> 8 & 0xFF), UInt8(bits >> 16 & 0xFF), UInt8(bits >> 24)]
        }
        let strip = LZW.encode(raw)
        // Header (8), the strip, then the directory.
        let directoryOffset = 8 + strip.count + (strip.count % 2)
        let entries: [(tag: UInt16, type: UInt16, value: UInt32)] = [
            (256, 4, UInt32(width)), (257, 4, UInt32(height)), (258, 3, 32), (259, 3, 5), (262, 3, 1), (273, 4, 8), (277, 3, 1),
            (278, 4, UInt32(height)), (279, 4, UInt32(strip.count)), (284, 3, 1), (339, 3, 3),
        ]
        var tiff: [UInt8] = [0x49, 0x49, 42, 0] + le32(UInt32(directoryOffset))
        tiff += strip
        if strip.count % 2 == 1 { tiff.append(0) }
        tiff += le16(UInt16(entries.count))
        for entry in entries {
            tiff += le16(entry.tag) + le16(entry.type) + le32(1)
            tiff += entry.type == 3 ? le16(UInt16(entry.value)) + [0, 0] : le32(entry.value)
        }
        tiff += le32(0)
        return tiff
    }

    static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    static func le32(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }
}
