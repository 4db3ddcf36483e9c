import Foundation
import Synchronization

/// The byte-level facts of SQLite's database file format (sqlite.org/fileformat2.html, "Database File Format") that
/// the bulk writer needs, at MapDepot's 64 KiB pages and no reserved bytes per page.
enum SQLiteFileFormat {
    /// Page size and usable size `U` (§1.3.2: 65536 is stored as 1 in the header).
    static let pageSize = 65_536
    /// §1.6: the largest payload kept whole on a table leaf page, `X = U - 35`.
    static let tableLeafMaxLocal = pageSize - 35
    /// §1.6: the part of an overflowing payload kept on the page at least, `M = ((U - 12) * 32 / 255) - 23`.
    static let minLocal = (pageSize - 12) * 32 / 255 - 23
    /// §1.6: an index page's `X = ((U - 12) * 64 / 255) - 23`.
    static let indexMaxLocal = (pageSize - 12) * 64 / 255 - 23
    /// Bytes of content on an overflow page after its 4-byte next-page number.
    static let overflowContent = pageSize - 4

    /// §1.3.13: the page holding the byte at 1 GiB (`PENDING_BYTE`), which SQLite never uses, so that its locks can be
    /// taken on that range on every platform. `integrity_check` counts any reference to it as a second one.
    static let lockBytePage = 0x4000_0000 / pageSize + 1

    /// The page after `page` in a run of allocated pages (skipping the lock-byte page).
    static func page(after page: Int) -> Int {
        page + 1 == lockBytePage ? page + 2 : page + 1
    }

    /// Page type bytes (§1.6).
    static let tableLeaf: UInt8 = 0x0D
    static let tableInterior: UInt8 = 0x05
    static let indexLeaf: UInt8 = 0x0A
    static let indexInterior: UInt8 = 0x02

    /// How many bytes of a `payload`-byte cell stay on a page whose largest local payload is `maxLocal` (§1.6).
    static func localSize(payload: Int, maxLocal: Int) -> Int {
        guard payload > maxLocal else { return payload }
        let candidate = minLocal + (payload - minLocal) % overflowContent
        return candidate <= maxLocal ? candidate : minLocal
    }

    /// Overflow pages a `payload`-byte cell needs.
    static func overflowPages(payload: Int, maxLocal: Int) -> Int {
        let rest = payload - localSize(payload: payload, maxLocal: maxLocal)
        return (rest + overflowContent - 1) / overflowContent
    }

    /// Bytes of a varint (§1.5: big-endian, 7 bits a byte, the ninth byte takes 8).
    static func varintLength(_ value: UInt64) -> Int {
        if value <= 0x7F { return 1 }
        if value <= 0x3FFF { return 2 }
        var length = 1
        var rest = value >> 7
        while rest != 0 && length < 8 {
            length += 1
            rest >>= 7
        }
        return rest == 0 ? length : 9
    }

    /// Writes a varint at `offset` and returns the bytes written.
    @discardableResult
    static func putVarint(_ value: UInt64, into page: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        let length = varintLength(value)
        if length == 9 {
            page[offset + 8] = UInt8(truncatingIfNeeded: value)
            var rest = value >> 8
            for index in stride(from: 7, through: 0, by: -1) {
                page[offset + index] = UInt8(truncatingIfNeeded: rest & 0x7F) | 0x80
                rest >>= 7
            }
            return 9
        }
        var rest = value
        for index in stride(from: length - 1, through: 0, by: -1) {
            page[offset + index] = UInt8(truncatingIfNeeded: rest & 0x7F) | (index == length - 1 ? 0 : 0x80)
            rest >>= 7
        }
        return length
    }

    /// A record's serial type for an integer and the body bytes it takes (§2.1: 8 and 9 are the constants 0 and 1
    /// in schema format 4, which `CREATE TABLE` gives a new file; otherwise the smallest of 1, 2, 3, 4, 6 and 8 bytes).
    static func integerType(_ value: Int64) -> (type: UInt64, bytes: Int) {
        switch value {
        case 0: (8, 0)
        case 1: (9, 0)
        case -128...127: (1, 1)
        case -32_768...32_767: (2, 2)
        case -8_388_608...8_388_607: (3, 3)
        case -2_147_483_648...2_147_483_647: (4, 4)
        case -140_737_488_355_328...140_737_488_355_327: (5, 6)
        default: (6, 8)
        }
    }

    /// Writes the `bytes` low bytes of `value`, big-endian.
    static func putInteger(_ value: Int64, bytes: Int, into page: UnsafeMutableRawBufferPointer, at offset: Int) {
        var rest = UInt64(bitPattern: value)
        for index in stride(from: bytes - 1, through: 0, by: -1) {
            page[offset + index] = UInt8(truncatingIfNeeded: rest)
            rest >>= 8
        }
    }

    static func putUInt32(_ value: UInt32, into page: UnsafeMutableRawBufferPointer, at offset: Int) {
        putInteger(Int64(value), bytes: 4, into: page, at: offset)
    }

    static func putUInt16(_ value: Int, into page: UnsafeMutableRawBufferPointer, at offset: Int) {
        putInteger(Int64(value), bytes: 2, into: page, at: offset)
    }

    static func readUInt32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        (UInt32(bytes[offset]) << 24) | (UInt32(bytes[offset + 1]) << 16) | (UInt32(bytes[offset + 2]) << 8) | UInt32(bytes[offset + 3])
    }
}

/// Whole pages in memory, aligned to the system page so that they can be written with direct I/O (`O_DIRECT`), which
/// takes them from this memory to the device without a copy into the kernel's cache.
///
/// Mapped straight from the kernel (`mmap`), not from malloc, and handed round by a ``PagePool``: through malloc, 16 MB
/// chunks freed one after another left an export's peak RSS at 390 MB; a fresh mapping per chunk cost a page fault and
/// the kernel's zeroing per 4 KiB (a quarter of an export's samples). Reused, a buffer is zeroed by `memset`.
public final class AlignedPages: @unchecked Sendable {
    // @unchecked: one owner at a time. The encoder fills the bytes before the buffer is handed on; afterwards they are
    // only read (hashed and written at once) until the buffer goes back to its pool, which hands it to the next encoder.
    public private(set) var bytes: UnsafeMutableRawBufferPointer
    private let mapping: UnsafeMutableRawBufferPointer

    /// A buffer of `capacity` bytes holding `count` zero bytes (multiples of the page size; `count` may be 0).
    public init(count: Int, capacity: Int? = nil) {
        let size = max(capacity ?? count, count, 1)
        let address = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let address, address != MAP_FAILED else { fatalError("out of memory: mmap of \(size) bytes failed (errno \(errno))") }
        mapping = UnsafeMutableRawBufferPointer(start: address, count: size)
        bytes = UnsafeMutableRawBufferPointer(rebasing: mapping[0..<count])
    }

    public convenience init(copying source: [UInt8]) {
        self.init(count: source.count)
        source.withUnsafeBytes { bytes.copyMemory(from: $0) }
    }

    public var count: Int { bytes.count }
    var capacity: Int { mapping.count }

    /// Makes the buffer `count` zero bytes again, for its next owner.
    func reset(count: Int) {
        bytes = UnsafeMutableRawBufferPointer(rebasing: mapping[0..<count])
        bytes.initializeMemory(as: UInt8.self, repeating: 0)
    }

    deinit { munmap(mapping.baseAddress, mapping.count) }
}

/// The few page buffers a bulk write has in flight (one being filled, one being hashed and written), reused chunk after
/// chunk.
public final class PagePool: Sendable {
    private let free = Mutex<[AlignedPages]>([])

    public init() {}

    /// A buffer of `count` zero bytes.
    public func take(count: Int) -> AlignedPages {
        if let buffer = free.withLock({ free -> AlignedPages? in
            free.firstIndex { $0.capacity >= count }.map { free.remove(at: $0) }
        }) {
            buffer.reset(count: count)
            return buffer
        }
        // Capacity in steps of 8 MiB, so that a buffer fits the next chunks, whose sizes vary by a leaf or two.
        return AlignedPages(count: count, capacity: (count + (8 << 20) - 1) / (8 << 20) * (8 << 20))
    }

    /// Gives a buffer back once nothing reads it any more (three are kept at most).
    public func recycle(_ buffer: AlignedPages) {
        free.withLock { free in if free.count < 3 { free.append(buffer) } }
    }
}
