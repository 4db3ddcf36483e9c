import Foundation

/// Reads a single-band TIFF: a GeoTIFF DEM (georeferenced by ModelPixelScale and ModelTiepoint, nodata from GDAL's
/// `GDAL_NODATA` tag), or a float32 tile of a gridded-coverage GeoPackage (issue #13). Classic TIFF, either byte
/// order, strips or tiles, no compression, deflate or LZW, horizontal predictor; 8/16/32-bit integers and 32/64-bit
/// floats. Anything else is refused with what it is.
public struct TIFFReader {
    let bytes: [UInt8]
    let little: Bool
    var tags: [UInt16: [Double]] = [:]
    var text: [UInt16: String] = [:]

    public init(bytes: [UInt8]) throws(RasterError) {
        guard bytes.count >= 8 else { throw RasterError("not a TIFF (too short)") }
        self.bytes = bytes
        switch (bytes[0], bytes[1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: throw RasterError("not a TIFF (no byte-order mark)")
        }
        let magic = Self.read16(bytes, 2, little)
        guard magic == 42 else { throw RasterError(magic == 43 ? "BigTIFF is not supported" : "not a TIFF (magic \(magic))") }
        try readDirectory(at: Int(Self.read32(bytes, 4, little)))
    }

    static func read16(_ b: [UInt8], _ at: Int, _ little: Bool) -> UInt16 {
        little ? UInt16(b[at]) | UInt16(b[at + 1]) << 8 : UInt16(b[at]) << 8 | UInt16(b[at + 1])
    }

    static func read32(_ b: [UInt8], _ at: Int, _ little: Bool) -> UInt32 {
        little
            ? UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
            : UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3])
    }

    static func read64(_ b: [UInt8], _ at: Int, _ little: Bool) -> UInt64 {
        let high = UInt64(read32(b, at + (little ? 4 : 0), little))
        let low = UInt64(read32(b, at + (little ? 0 : 4), little))
        return high << 32 | low
    }

    private mutating func readDirectory(at offset: Int) throws(RasterError) {
        guard offset + 2 <= bytes.count else { throw RasterError("TIFF directory out of the file") }
        let count = Int(Self.read16(bytes, offset, little))
        guard offset + 2 + count * 12 <= bytes.count else { throw RasterError("TIFF directory out of the file") }
        for index in 0..<count {
            let entry = offset + 2 + index * 12
            let tag = Self.read16(bytes, entry, little)
            let type = Self.read16(bytes, entry + 2, little)
            let n = Int(Self.read32(bytes, entry + 4, little))
            let size: Int
            switch type {
            case 1, 2, 6, 7: size = 1
            case 3, 8: size = 2
            case 4, 9, 11: size = 4
            case 5, 10, 12: size = 8
            default: continue
            }
            guard n >= 0, n <= bytes.count else { throw RasterError("TIFF tag \(tag) has \(n) values") }
            let at = size * n <= 4 ? entry + 8 : Int(Self.read32(bytes, entry + 8, little))
            guard at >= 0, at + size * n <= bytes.count else { throw RasterError("TIFF tag \(tag) points out of the file") }
            if type == 2 {
                text[tag] = String(decoding: bytes[at..<(at + n)].prefix { $0 != 0 }, as: UTF8.self)
                continue
            }
            var values: [Double] = []
            values.reserveCapacity(n)
            for i in 0..<n {
                let p = at + i * size
                switch type {
                case 1, 7: values.append(Double(bytes[p]))
                case 6: values.append(Double(Int8(bitPattern: bytes[p])))
                case 3: values.append(Double(Self.read16(bytes, p, little)))
                case 8: values.append(Double(Int16(bitPattern: Self.read16(bytes, p, little))))
                case 4: values.append(Double(Self.read32(bytes, p, little)))
                case 9: values.append(Double(Int32(bitPattern: Self.read32(bytes, p, little))))
                case 11: values.append(Double(Float(bitPattern: Self.read32(bytes, p, little))))
                case 12: values.append(Double(bitPattern: Self.read64(bytes, p, little)))
                case 5, 10:
                    let numerator = Double(Self.read32(bytes, p, little))
                    let denominator = Double(Self.read32(bytes, p + 4, little))
                    values.append(denominator == 0 ? 0 : numerator / denominator)
                default: break
                }
            }
            tags[tag] = values
        }
    }

    func tag(_ id: UInt16) -> Double? { tags[id]?.first }

    /// The grid, georeferenced when the file says where it is (else origin 0,0 and 1° cells: a tile's own frame).
    public func grid() throws(RasterError) -> ElevationGrid {
        guard let w = tag(256), let h = tag(257), w >= 1, h >= 1, w * h <= Double(1 << 28) else { throw RasterError("TIFF without a sane size") }
        let width = Int(w)
        let height = Int(h)
        guard (tag(277) ?? 1) == 1 else { throw RasterError("TIFF has \(Int(tag(277)!)) bands; one is expected") }
        let bits = Int(tag(258) ?? 1)
        let format = Int(tag(339) ?? 1)
        let compression = Int(tag(259) ?? 1)
        let predictor = Int(tag(317) ?? 1)
        guard [1, 5, 8, 32946].contains(compression) else { throw RasterError("TIFF compression \(compression) is not supported (none, LZW, deflate)") }
        guard [1, 2].contains(predictor) else { throw RasterError("TIFF predictor \(predictor) is not supported") }
        guard [(8, 1), (8, 2), (16, 1), (16, 2), (32, 1), (32, 2), (32, 3), (64, 3)].contains(where: { $0 == (bits, format) }) else {
            throw RasterError("TIFF samples of \(bits) bits, format \(format), are not supported")
        }
        let bytesPerSample = bits / 8
        // Strips are tiles as wide as the image.
        let tiled = tags[322] != nil
        let blockWidth = tiled ? Int(tag(322) ?? 0) : width
        let blockHeight = tiled ? Int(tag(323) ?? 0) : min(height, Int(tag(278) ?? Double(height)))
        guard blockWidth > 0, blockHeight > 0 else { throw RasterError("TIFF without a block size") }
        guard let offsets = tags[tiled ? 324 : 273], let counts = tags[tiled ? 325 : 279], offsets.count == counts.count else {
            throw RasterError("TIFF without block offsets")
        }
        let across = (width + blockWidth - 1) / blockWidth
        let down = (height + blockHeight - 1) / blockHeight
        guard offsets.count >= across * down else { throw RasterError("TIFF lists \(offsets.count) blocks, \(across * down) are needed") }
        var values = [Float](repeating: 0, count: width * height)
        let blockBytes = blockWidth * blockHeight * bytesPerSample
        for index in 0..<(across * down) {
            let start = Int(offsets[index])
            let end = start + Int(counts[index])
            guard start >= 0, end <= bytes.count, start <= end else { throw RasterError("TIFF block \(index) is out of the file") }
            var block: [UInt8]
            switch compression {
            case 1: block = Array(bytes[start..<end])
            case 5: block = try LZW.decode(bytes[start..<end], limit: blockBytes)
            default: block = try Zlib.decompress(bytes[start..<end], limit: blockBytes)
            }
            let rows = tiled ? blockHeight : min(blockHeight, height - (index / across) * blockHeight)
            guard block.count >= blockWidth * rows * bytesPerSample else { throw RasterError("TIFF block \(index) is short") }
            let x0 = (index % across) * blockWidth
            let y0 = (index / across) * blockHeight
            for row in 0..<rows where y0 + row < height {
                var previous: Double = 0
                for column in 0..<blockWidth {
                    let p = (row * blockWidth + column) * bytesPerSample
                    var value = sample(block, p, bits: bits, format: format)
                    if predictor == 2 {
                        // Horizontal differencing: integers wrap at their width.
                        value = column == 0 ? value : Self.wrap(previous + value, bits: bits, signed: format == 2)
                        previous = value
                    }
                    if x0 + column < width { values[(y0 + row) * width + x0 + column] = Float(value) }
                }
            }
        }
        var grid = ElevationGrid(width: width, height: height, values: values, originX: 0, originY: 0, pixelX: 1, pixelY: 1, nodata: nil)
        if let scale = tags[33550], scale.count >= 2, let tie = tags[33922], tie.count >= 6 {
            grid.pixelX = scale[0]
            grid.pixelY = scale[1]
            grid.originX = tie[3] - tie[0] * scale[0]
            grid.originY = tie[4] + tie[1] * scale[1]
        }
        if let raw = text[42113], let nodata = Float(raw.trimmingCharacters(in: .whitespaces)) { grid.nodata = nodata }
        return grid
    }

    func sample(_ b: [UInt8], _ p: Int, bits: Int, format: Int) -> Double {
        switch (bits, format) {
        case (8, 2): Double(Int8(bitPattern: b[p]))
        case (8, _): Double(b[p])
        case (16, 2): Double(Int16(bitPattern: Self.read16(b, p, little)))
        case (16, _): Double(Self.read16(b, p, little))
        case (32, 2): Double(Int32(bitPattern: Self.read32(b, p, little)))
        case (32, 3): Double(Float(bitPattern: Self.read32(b, p, little)))
        case (32, _): Double(Self.read32(b, p, little))
        default: Double(bitPattern: Self.read64(b, p, little))
        }
    }

    static func wrap(_ value: Double, bits: Int, signed: Bool) -> Double {
        let modulus = Double(1 << bits)
        var v = value.truncatingRemainder(dividingBy: modulus)
        if v < 0 { v += modulus }
        if signed && v >= modulus / 2 { v -= modulus }
        return v
    }
}

/// TIFF's LZW (MSB-first codes, 9 to 12 bits, the code width grows one code early), as libtiff reads and writes it.
public enum LZW {
    /// A strip or tile in TIFF LZW: a clear code first, a clear when the table is full, end-of-information last.
    public static func encode(_ input: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        var nextCode = 258
        var table: [Int: Int] = [:]
        func width(_ code: Int) -> Int { code < 512 ? 9 : code < 1024 ? 10 : code < 2048 ? 11 : 12 }
        func write(_ code: Int, _ size: Int) {
            buffer = buffer << UInt32(size) | UInt32(code)
            bits += size
            while bits >= 8 {
                output.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits - 8)))
                bits -= 8
            }
        }
        write(256, 9)
        guard var omega = input.first.map(Int.init) else {
            write(257, 9)
            if bits > 0 { output.append(UInt8(truncatingIfNeeded: buffer << UInt32(8 - bits))) }
            return output
        }
        for byte in input.dropFirst() {
            let key = omega << 8 | Int(byte)
            if let code = table[key] {
                omega = code
                continue
            }
            write(omega, width(nextCode))
            if nextCode < 4093 {
                table[key] = nextCode
                nextCode += 1
            } else {
                write(256, width(nextCode))
                table.removeAll(keepingCapacity: true)
                nextCode = 258
            }
            omega = Int(byte)
        }
        write(omega, width(nextCode))
        // The reader adds one more entry after the last code, which may widen the end code.
        write(257, width(nextCode + 1))
        if bits > 0 { output.append(UInt8(truncatingIfNeeded: buffer << UInt32(8 - bits))) }
        return output
    }

    public static func decode(_ data: some Collection<UInt8>, limit: Int) throws(RasterError) -> [UInt8] {
        let input = Array(data)
        var output: [UInt8] = []
        var table: [[UInt8]] = (0..<256).map { [UInt8($0)] } + [[], []]
        var width = 9
        var bitPosition = 0
        var previous: [UInt8]?
        func next() -> Int? {
            guard bitPosition + width <= input.count * 8 else { return nil }
            var code = 0
            for _ in 0..<width {
                code = code << 1 | Int(input[bitPosition >> 3] >> (7 - UInt8(bitPosition & 7)) & 1)
                bitPosition += 1
            }
            return code
        }
        while let code = next() {
            if code == 257 { break }
            if code == 256 {
                table.removeSubrange(258...)
                width = 9
                previous = nil
                continue
            }
            let entry: [UInt8]
            if code < table.count {
                entry = table[code]
                if let previous { table.append(previous + [entry[0]]) }
            } else if let previous, code == table.count {
                entry = previous + [previous[0]]
                table.append(entry)
            } else {
                throw RasterError("LZW stream is corrupt")
            }
            output += entry
            guard output.count <= limit else { throw RasterError("LZW stream is larger than its block") }
            previous = entry
            if table.count + 1 >= 1 << width && width < 12 { width += 1 }
        }
        return output
    }
}
