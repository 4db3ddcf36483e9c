/// 16-bit grayscale PNG, the integer tiles of a gridded coverage (OGC 17-066r1; `datatype = 'integer'`): written
/// unfiltered and deflated, read back with every filter type.
public enum PNG16 {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    public static func encode(width: Int, height: Int, samples: [UInt16]) throws(RasterError) -> [UInt8] {
        precondition(samples.count == width * height)
        var raw: [UInt8] = []
        raw.reserveCapacity(height * (1 + width * 2))
        for row in 0..<height {
            raw.append(0)
            for value in samples[(row * width)..<((row + 1) * width)] {
                raw.append(UInt8(value >> 8))
                raw.append(UInt8(value & 0xFF))
            }
        }
        var png = signature
        var header: [UInt8] = []
        header += be32(UInt32(width)) + be32(UInt32(height)) + [16, 0, 0, 0, 0]
        png += chunk("IHDR", header)
        png += chunk("IDAT", try Zlib.compress(raw))
        png += chunk("IEND", [])
        return png
    }

    public static func decode(_ png: [UInt8]) throws(RasterError) -> (width: Int, height: Int, samples: [UInt16]) {
        guard png.count > 8, Array(png[0..<8]) == signature else { throw RasterError("not a PNG") }
        var at = 8
        var width = 0
        var height = 0
        var data: [UInt8] = []
        while at + 8 <= png.count {
            let length = Int(be32(png, at))
            let type = String(decoding: png[(at + 4)..<(at + 8)], as: UTF8.self)
            guard at + 12 + length <= png.count else { throw RasterError("PNG chunk \(type) is cut short") }
            let body = png[(at + 8)..<(at + 8 + length)]
            switch type {
            case "IHDR":
                let header = Array(body)
                guard header.count == 13 else { throw RasterError("PNG header is malformed") }
                width = Int(be32(header, 0))
                height = Int(be32(header, 4))
                guard header[8] == 16, header[9] == 0 else { throw RasterError("PNG is not 16-bit grayscale (depth \(header[8]), colour type \(header[9]))") }
                guard header[12] == 0 else { throw RasterError("interlaced PNG is not supported") }
                guard width > 0, height > 0, width * height <= 1 << 26 else { throw RasterError("PNG size \(width)×\(height) is not sane") }
            case "IDAT": data += body
            case "IEND": at = png.count
            default: break
            }
            at += 12 + length
        }
        let stride = width * 2
        let raw = try Zlib.decompress(data, limit: height * (stride + 1))
        guard raw.count == height * (stride + 1) else { throw RasterError("PNG data is \(raw.count) bytes, \(height * (stride + 1)) expected") }
        var samples = [UInt16](repeating: 0, count: width * height)
        var previous = [UInt8](repeating: 0, count: stride)
        var current = [UInt8](repeating: 0, count: stride)
        for row in 0..<height {
            let base = row * (stride + 1)
            let filter = raw[base]
            for i in 0..<stride {
                let x = raw[base + 1 + i]
                let a = i >= 2 ? current[i - 2] : 0
                let b = previous[i]
                let c = i >= 2 ? previous[i - 2] : 0
                switch filter {
                case 0: current[i] = x
                case 1: current[i] = x &+ a
                case 2: current[i] = x &+ b
                case 3: current[i] = x &+ UInt8((Int(a) + Int(b)) / 2)
                case 4: current[i] = x &+ paeth(a, b, c)
                default: throw RasterError("PNG filter \(filter) is unknown")
                }
            }
            for column in 0..<width { samples[row * width + column] = UInt16(current[column * 2]) << 8 | UInt16(current[column * 2 + 1]) }
            swap(&previous, &current)
        }
        return (width, height, samples)
    }

    static func paeth(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> UInt8 {
        let p = Int(a) + Int(b) - Int(c)
        let pa = abs(p - Int(a)), pb = abs(p - Int(b)), pc = abs(p - Int(c))
        return pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
    }

    static func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
        let typed = Array(type.utf8) + body
        return be32(UInt32(body.count)) + typed + be32(Zlib.crc32(typed))
    }

    static func be32(_ value: UInt32) -> [UInt8] { [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
    static func be32(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3])
    }
    static func be32(_ b: ArraySlice<UInt8>, _ at: Int) -> UInt32 { be32(Array(b), at - b.startIndex) }
}
