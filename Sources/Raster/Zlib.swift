import CMapDepotZlib
import Foundation

/// zlib (Debian's `zlib1g-dev`, a system library target): the deflate streams inside PNG and inside TIFF's
/// `Compression = 8` (Adobe deflate) tiles and strips.
public enum Zlib {
    /// A zlib stream (RFC 1950) of `data`.
    public static func compress(_ data: [UInt8], level: Int32 = 6) throws(RasterError) -> [UInt8] {
        var length = compressBound(uLong(data.count))
        var output = [UInt8](repeating: 0, count: Int(length))
        let status = output.withUnsafeMutableBufferPointer { out in
            data.withUnsafeBufferPointer { input in compress2(out.baseAddress, &length, input.baseAddress, uLong(data.count), level) }
        }
        guard status == Z_OK else { throw RasterError("zlib compress failed (\(status))") }
        output.removeSubrange(Int(length)...)
        return output
    }

    /// The bytes of a zlib stream, at most `limit` of them (a corrupt or hostile stream cannot grow memory without end).
    public static func decompress(_ data: some Collection<UInt8>, limit: Int = 1 << 30) throws(RasterError) -> [UInt8] {
        var stream = z_stream()
        guard inflateInit_(&stream, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { throw RasterError("zlib init failed") }
        defer { inflateEnd(&stream) }
        var input = Array(data)
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var status: Int32 = Z_OK
        input.withUnsafeMutableBufferPointer { buffer in
            stream.next_in = buffer.baseAddress
            stream.avail_in = uInt(buffer.count)
            while status == Z_OK {
                chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    output.append(contentsOf: out[0..<(out.count - Int(stream.avail_out))])
                }
                if output.count > limit { status = Z_MEM_ERROR }
                if status == Z_BUF_ERROR && stream.avail_in == 0 { break }
            }
        }
        guard status == Z_STREAM_END else { throw RasterError("not a whole zlib stream (\(status))") }
        return output
    }

    /// CRC-32 (PNG chunks).
    public static func crc32(_ bytes: some Collection<UInt8>, start: UInt32 = 0) -> UInt32 {
        let array = Array(bytes)
        return array.withUnsafeBufferPointer { UInt32(CMapDepotZlib.crc32(uLong(start), $0.baseAddress, uInt($0.count))) }
    }
}

/// A raster MapDepot cannot read or write, with why.
public struct RasterError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
