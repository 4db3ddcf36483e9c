import CMapDepotDeflate
import Foundation

/// A ZIP file written entry by entry from whole buffers (APPNOTE 6.3.10): each entry is deflated and CRC-checked with
/// libdeflate before a byte is written, so its local header carries the real sizes and CRC (no data descriptor), and
/// the writer knows what the zip would weigh with it before adding it. ZIP64 records are written where a size, an
/// offset or the entry count does not fit the classic fields.
///
/// Our own writer rather than ZIPFoundation for replica zips (issue #15): ZIPFoundation's CRC-32 is a byte loop in
/// Swift and its deflate is zlib's, fed 256 KB at a time; together they were a third of a snapshot's time. Readers
/// checked in tests: `unzip -t`, Python's `zipfile` and ZIPFoundation.
///
/// Not thread-safe: one writer belongs to one replica writer, used by one thread at a time.
final class ZipFileWriter {
    /// One entry, deflated (or stored when deflate would not make it smaller), ready to be written.
    struct Entry: Sendable {
        var name: String
        var crc32: UInt32
        var uncompressedSize: UInt64
        /// 8 (deflate) or 0 (stored).
        var method: UInt16
        var data: [UInt8]
    }

    /// A written entry's central-directory facts.
    private struct Written {
        var name: [UInt8]
        var crc32: UInt32
        var uncompressedSize: UInt64
        var compressedSize: UInt64
        var method: UInt16
        var offset: UInt64
    }

    let path: String
    private let handle: FileHandle
    private let time: (time: UInt16, date: UInt16)
    /// Fields at or above this are written as ZIP64 (0xFFFF_FFFF by the format; lower in tests, to exercise ZIP64).
    private let zip64Threshold: UInt64
    private var written: [Written] = []
    private var offset: UInt64 = 0
    /// The central directory's size so far, at its largest (every entry with a full ZIP64 extra).
    private var directoryBound: UInt64 = 0
    private var closed = false

    init(path: String, modified: Date, zip64Threshold: UInt64 = 0xFFFF_FFFF) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        self.path = path
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        time = Self.dosTime(modified)
        self.zip64Threshold = zip64Threshold
    }

    deinit {
        try? handle.close()
    }

    var entryCount: Int { written.count }

    /// Deflates `bytes` at `level` (libdeflate's 1–12; 6 matches zlib's default) with the CRC-32 taken on the way.
    /// Pure: entries may be compressed on any thread, each with its own compressor.
    static func compress(_ bytes: [UInt8], name: String, compressor: Compressor) -> Entry {
        let crc = bytes.withUnsafeBytes { raw in UInt32(libdeflate_crc32(0, raw.baseAddress, raw.count)) }
        let deflated = compressor.deflate(bytes)
        if let deflated, deflated.count < bytes.count {
            return Entry(name: name, crc32: crc, uncompressedSize: UInt64(bytes.count), method: 8, data: deflated)
        }
        return Entry(name: name, crc32: crc, uncompressedSize: UInt64(bytes.count), method: 0, data: bytes)
    }

    /// The zip's size on disk if `entry` were added and the zip closed now.
    func sizeClosed(with entry: Entry) -> UInt64 {
        let name = UInt64(entry.name.utf8.count)
        let local = 30 + name + 20 + UInt64(entry.data.count)
        return offset + local + directoryBound + 46 + name + 28 + 22 + 56 + 20
    }

    func add(_ entry: Entry) throws {
        precondition(!closed, "entry added to a closed zip")
        let name = Array(entry.name.utf8)
        let compressedSize = UInt64(entry.data.count)
        let zip64 = entry.uncompressedSize >= zip64Threshold || compressedSize >= zip64Threshold
        var header = ByteWriter()
        header.u32(0x0403_4B50)
        header.u16(zip64 ? 45 : 20)
        header.u16(0x0800)  // names in UTF-8
        header.u16(entry.method)
        header.u16(time.time)
        header.u16(time.date)
        header.u32(entry.crc32)
        header.u32(zip64 ? 0xFFFF_FFFF : UInt32(compressedSize))
        header.u32(zip64 ? 0xFFFF_FFFF : UInt32(entry.uncompressedSize))
        header.u16(UInt16(name.count))
        header.u16(zip64 ? 20 : 0)
        header.bytes += name
        if zip64 {
            header.u16(0x0001)
            header.u16(16)
            header.u64(entry.uncompressedSize)
            header.u64(compressedSize)
        }
        try handle.write(contentsOf: header.bytes)
        try handle.write(contentsOf: entry.data)
        written.append(
            Written(name: name, crc32: entry.crc32, uncompressedSize: entry.uncompressedSize, compressedSize: compressedSize, method: entry.method, offset: offset)
        )
        offset += UInt64(header.bytes.count) + compressedSize
        directoryBound += 46 + UInt64(name.count) + 28
    }

    /// Writes the central directory and the end records, and closes the file.
    func close() throws {
        guard !closed else { return }
        closed = true
        var directory = ByteWriter()
        for entry in written {
            var extra = ByteWriter()
            if entry.uncompressedSize >= zip64Threshold { extra.u64(entry.uncompressedSize) }
            if entry.compressedSize >= zip64Threshold { extra.u64(entry.compressedSize) }
            if entry.offset >= zip64Threshold { extra.u64(entry.offset) }
            let zip64 = !extra.bytes.isEmpty
            directory.u32(0x0201_4B50)
            directory.u16(0x0300 | (zip64 ? 45 : 20))  // made by UNIX, spec version
            directory.u16(zip64 ? 45 : 20)
            directory.u16(0x0800)
            directory.u16(entry.method)
            directory.u16(time.time)
            directory.u16(time.date)
            directory.u32(entry.crc32)
            directory.u32(entry.compressedSize >= zip64Threshold ? 0xFFFF_FFFF : UInt32(entry.compressedSize))
            directory.u32(entry.uncompressedSize >= zip64Threshold ? 0xFFFF_FFFF : UInt32(entry.uncompressedSize))
            directory.u16(UInt16(entry.name.count))
            directory.u16(zip64 ? UInt16(4 + extra.bytes.count) : 0)
            directory.u16(0)  // comment
            directory.u16(0)  // disk
            directory.u16(0)  // internal attributes
            directory.u32(0o100644 << 16)  // a regular file, rw-r--r--
            directory.u32(entry.offset >= zip64Threshold ? 0xFFFF_FFFF : UInt32(entry.offset))
            directory.bytes += entry.name
            if zip64 {
                directory.u16(0x0001)
                directory.u16(UInt16(extra.bytes.count))
                directory.bytes += extra.bytes
            }
        }
        let directoryOffset = offset
        let directorySize = UInt64(directory.bytes.count)
        let count = UInt64(written.count)
        let zip64 = count >= min(0xFFFF, zip64Threshold) || directoryOffset >= zip64Threshold || directorySize >= zip64Threshold
        if zip64 {
            let recordOffset = directoryOffset + directorySize
            directory.u32(0x0606_4B50)
            directory.u64(44)
            directory.u16(0x0300 | 45)
            directory.u16(45)
            directory.u32(0)
            directory.u32(0)
            directory.u64(count)
            directory.u64(count)
            directory.u64(directorySize)
            directory.u64(directoryOffset)
            directory.u32(0x0706_4B50)
            directory.u32(0)
            directory.u64(recordOffset)
            directory.u32(1)
        }
        directory.u32(0x0605_4B50)
        directory.u16(0)
        directory.u16(0)
        directory.u16(zip64 ? 0xFFFF : UInt16(count))
        directory.u16(zip64 ? 0xFFFF : UInt16(count))
        directory.u32(zip64 ? 0xFFFF_FFFF : UInt32(directorySize))
        directory.u32(zip64 ? 0xFFFF_FFFF : UInt32(directoryOffset))
        directory.u16(0)
        try handle.write(contentsOf: directory.bytes)
        offset += UInt64(directory.bytes.count)
        try handle.close()
    }

    /// MS-DOS date and time (local fields, 2-second resolution), as ZIP stores them; in UTC, so that the same instant
    /// gives the same bytes on every machine.
    static func dosTime(_ date: Date) -> (time: UInt16, date: UInt16) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let year = min(max((parts.year ?? 1980) - 1980, 0), 127)
        let time = UInt16((parts.hour ?? 0) << 11 | (parts.minute ?? 0) << 5 | (parts.second ?? 0) / 2)
        let day = UInt16(year << 9 | (parts.month ?? 1) << 5 | (parts.day ?? 1))
        return (time, day)
    }

    /// A libdeflate compressor at one level; not to be shared between threads at once.
    final class Compressor {
        private let pointer: OpaquePointer

        init(level: Int32 = 6) {
            // Only a level outside 0–12 or no memory makes it nil.
            pointer = libdeflate_alloc_compressor(level)!
        }

        deinit {
            libdeflate_free_compressor(pointer)
        }

        /// Raw deflate of `bytes`; nil when the output would not fit the bound (it always does).
        func deflate(_ bytes: [UInt8]) -> [UInt8]? {
            let bound = libdeflate_deflate_compress_bound(pointer, bytes.count)
            // Uninitialised: zeroing the bound (the input's size and more) touched every page of it, and a polygon
            // snapshot's four writers held four such buffers of 25 MB at once (issue #15: peak RSS 387 MB).
            let output = [UInt8](unsafeUninitializedCapacity: bound) { out, count in
                count = bytes.withUnsafeBytes { input in
                    libdeflate_deflate_compress(pointer, input.baseAddress, input.count, out.baseAddress, out.count)
                }
            }
            return output.isEmpty ? nil : output
        }
    }
}

/// Little-endian fields appended to a byte buffer.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func u16(_ value: UInt16) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
    mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
    mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
}
