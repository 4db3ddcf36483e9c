import Foundation
import GRDB
import TileGrid

/// Writes a tiles-only GeoPackage front to back, in SQLite's file format, without SQLite in the copy (issue #15).
///
/// SQLite's own `INSERT` writes each page several times (a leaf is rewritten as it fills, the index is updated out of
/// order) and the file is whole only at the end, so its SHA-256 needs a second pass over every byte. Here the layout is
/// decided first from the tiles' sizes (``GeoPackageBulkLayout``), so every page is final when it is produced: the
/// caller hashes and writes each chunk once, in file order, and can checkpoint between chunks.
///
/// The schema comes from a template that SQLite itself writes with ``GeoPackageTileWriter`` (same tables, same rows,
/// same header), with the tiles table's `sqlite_sequence` row set; the bulk writer then replaces the template's two
/// empty roots (the tiles table's and its unique index's) and sets the header's page count. Identical input gives
/// identical bytes.
public struct GeoPackageBulkWriter: Sendable {
    public let layout: GeoPackageBulkLayout
    /// The template's pages with the roots and the page count filled in: the file's first bytes.
    public let prefix: [UInt8]

    /// The template for `options` with `tiles` rows to come: its bytes and the two roots' pages.
    public static func template(options: GeoPackageTileWriter.Options, rows: Int, scratch: String) throws -> (bytes: [UInt8], tableRoot: Int, indexRoot: Int) {
        for suffix in ["", "-journal"] { try? FileManager.default.removeItem(atPath: scratch + suffix) }
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let writer = try GeoPackageTileWriter(path: scratch, options: options)
        try writer.finish()
        let queue = try DatabaseQueue(path: scratch)
        let roots = try queue.write { db -> (Int, Int) in
            if rows > 0 {
                try db.execute(sql: "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", arguments: [options.tableName, rows])
            }
            let table = try Int.fetchOne(db, sql: "SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = ?", arguments: [options.tableName])
            let indexes = try Int.fetchAll(db, sql: "SELECT rootpage FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", arguments: [options.tableName])
            guard let table, indexes.count == 1 else { throw GeoPackageError("the template's tiles table has an unexpected shape") }
            return (table, indexes[0])
        }
        try queue.close()
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: scratch)))
        guard bytes.count % SQLiteFileFormat.pageSize == 0, bytes.count >= 100,
            bytes.withUnsafeBytes({ SQLiteFileFormat.readUInt32($0, at: 36) }) == 0
        else { throw GeoPackageError("the template is not a whole file of 64 KiB pages without free pages") }
        return (bytes, roots.0, roots.1)
    }

    /// - Parameters:
    ///   - template: ``template(options:rows:scratch:)``'s result for `coordinates.count` rows.
    ///   - coordinates, sizes: the tiles, in rowid order.
    /// - Returns: nil when the tiles fit on one leaf (the root), which a bulk write cannot produce in file order.
    public init?(template: (bytes: [UInt8], tableRoot: Int, indexRoot: Int), coordinates: [TileCoordinate], sizes: [Int]) {
        let layout = GeoPackageBulkLayout(
            coordinates: coordinates, sizes: sizes, templatePages: template.bytes.count / SQLiteFileFormat.pageSize,
            tableRoot: template.tableRoot, indexRoot: template.indexRoot
        )
        guard layout.leaves.count >= 2 else { return nil }
        self.layout = layout
        var prefix = template.bytes
        prefix.withUnsafeMutableBytes { file in
            SQLiteFileFormat.putUInt32(UInt32(layout.totalPages), into: file, at: 28)
            for page in layout.tableInterior where page.page == layout.tableRoot {
                Self.encode(page, into: Self.page(page.page, of: file))
            }
            for page in layout.indexPages where page.page == layout.indexRoot {
                Self.encode(page, layout: layout, into: Self.page(page.page, of: file))
            }
        }
        self.prefix = prefix
    }

    /// The table's interior pages and the index's pages below their roots: the file's last bytes, after the leaves.
    public func tail() -> [UInt8] {
        let first = layout.leaves.last!.page + layout.leaves.last!.pages
        var bytes = [UInt8](repeating: 0, count: (layout.totalPages - first + 1) * SQLiteFileFormat.pageSize)
        bytes.withUnsafeMutableBytes { tail in
            for page in layout.tableInterior where page.page != layout.tableRoot {
                Self.encode(page, into: Self.page(page.page - first + 1, of: tail))
            }
            for page in layout.indexPages where page.page != layout.indexRoot {
                Self.encode(page, layout: layout, into: Self.page(page.page - first + 1, of: tail))
            }
        }
        return bytes
    }

    /// Page `number` (1-based) of a buffer of whole pages.
    static func page(_ number: Int, of buffer: UnsafeMutableRawBufferPointer) -> UnsafeMutableRawBufferPointer {
        let start = (number - 1) * SQLiteFileFormat.pageSize
        return UnsafeMutableRawBufferPointer(rebasing: buffer[start..<(start + SQLiteFileFormat.pageSize)])
    }

    /// A table interior page: header, cell pointers, then the cells from the page's end down.
    static func encode(_ interior: GeoPackageBulkLayout.TableInterior, into page: UnsafeMutableRawBufferPointer) {
        page.initializeMemory(as: UInt8.self, repeating: 0)
        var end = SQLiteFileFormat.pageSize
        for (number, cell) in interior.cells.enumerated() {
            end -= 4 + SQLiteFileFormat.varintLength(UInt64(cell.key))
            SQLiteFileFormat.putUInt32(UInt32(cell.child), into: page, at: end)
            SQLiteFileFormat.putVarint(UInt64(cell.key), into: page, at: end + 4)
            SQLiteFileFormat.putUInt16(end, into: page, at: 12 + 2 * number)
        }
        header(page, type: SQLiteFileFormat.tableInterior, cells: interior.cells.count, contentStart: end, right: interior.right)
    }

    /// An index page: each entry is the record `(zoom_level, tile_column, tile_row, rowid)`; on an interior page each
    /// cell starts with its left child.
    static func encode(_ index: GeoPackageBulkLayout.IndexPage, layout: GeoPackageBulkLayout, into page: UnsafeMutableRawBufferPointer) {
        page.initializeMemory(as: UInt8.self, repeating: 0)
        let interior = !index.children.isEmpty
        let headerBytes = interior ? 12 : 8
        var end = SQLiteFileFormat.pageSize
        for (number, entry) in index.entries.enumerated() {
            let tile = layout.coordinates[Int(entry)]
            let values = [Int64(tile.zoom), Int64(tile.column), Int64(tile.row), Int64(entry) + 1]
            let payload = GeoPackageBulkLayout.indexPayloadSize(tile, rowid: Int64(entry) + 1)
            end -= (interior ? 4 : 0) + SQLiteFileFormat.varintLength(UInt64(payload)) + payload
            var at = end
            if interior {
                SQLiteFileFormat.putUInt32(UInt32(index.children[number]), into: page, at: at)
                at += 4
            }
            at += SQLiteFileFormat.putVarint(UInt64(payload), into: page, at: at)
            page[at] = 5
            for (column, value) in values.enumerated() {
                page[at + 1 + column] = UInt8(SQLiteFileFormat.integerType(value).type)
            }
            at += 5
            for value in values {
                let bytes = SQLiteFileFormat.integerType(value).bytes
                SQLiteFileFormat.putInteger(value, bytes: bytes, into: page, at: at)
                at += bytes
            }
            SQLiteFileFormat.putUInt16(end, into: page, at: headerBytes + 2 * number)
        }
        header(
            page, type: interior ? SQLiteFileFormat.indexInterior : SQLiteFileFormat.indexLeaf, cells: index.entries.count, contentStart: end,
            right: interior ? index.children.last! : nil
        )
    }

    static func header(_ page: UnsafeMutableRawBufferPointer, type: UInt8, cells: Int, contentStart: Int, right: Int?) {
        page[0] = type
        SQLiteFileFormat.putUInt16(cells, into: page, at: 3)
        // §1.6: a content start of 65536 is written as 0.
        SQLiteFileFormat.putUInt16(contentStart & 0xFFFF, into: page, at: 5)
        if let right { SQLiteFileFormat.putUInt32(UInt32(right), into: page, at: 8) }
    }
}

/// Builds the leaf pages of a range of leaves, tile by tile as their bytes arrive (from a SQLite statement's step,
/// which lends them only until the next step).
public struct GeoPackageLeafEncoder: ~Copyable {
    public let layout: GeoPackageBulkLayout
    public let leaves: Range<Int>
    /// The leaves' pages, overflow pages included, zero-filled and then written in place.
    private let pages: AlignedPages
    private let base: Int
    private var leaf: Int
    private var end = SQLiteFileFormat.pageSize
    /// The page the current leaf's next overflow page goes to (nil: the one after the leaf).
    private var nextOverflow: Int?
    private var expected: Int

    /// - Parameter pool: where the pages' buffer comes from (nil: a new one).
    public init(layout: GeoPackageBulkLayout, leaves: Range<Int>, pool: PagePool? = nil) {
        self.layout = layout
        self.leaves = leaves
        base = layout.offset(ofLeaf: leaves.lowerBound)
        let count = layout.offset(ofLeaf: leaves.upperBound) - base
        pages = pool?.take(count: count) ?? AlignedPages(count: count)
        leaf = leaves.lowerBound
        expected = leaves.isEmpty ? 0 : layout.leaves[leaves.lowerBound].tiles.lowerBound
    }

    /// The tiles these leaves hold, in the order ``add(_:)`` wants them.
    public var tiles: Range<Int> {
        leaves.isEmpty ? 0..<0 : layout.leaves[leaves.lowerBound].tiles.lowerBound..<layout.leaves[leaves.upperBound - 1].tiles.upperBound
    }

    /// Adds the next tile's bytes; they must be as long as the layout says.
    public mutating func add(_ data: UnsafeRawBufferPointer) throws {
        let index = expected
        guard tiles.contains(index) else { throw GeoPackageError("tile \(index) is not in leaves \(leaves)") }
        guard data.count == layout.sizes[index] else {
            throw GeoPackageError("tile \(layout.coordinates[index]) changed size while it was copied (\(layout.sizes[index]) → \(data.count) bytes)")
        }
        let current = layout.leaves[leaf]
        let pageStart = (current.page - 1) * SQLiteFileFormat.pageSize - base
        let number = index - current.tiles.lowerBound
        let tile = layout.coordinates[index]
        let rowid = Int64(index + 1)
        let record = GeoPackageBulkLayout.tileRecord(tile, size: data.count)
        let local = SQLiteFileFormat.localSize(payload: record.payload, maxLocal: SQLiteFileFormat.tableLeafMaxLocal)
        let cell = GeoPackageBulkLayout.tileCellSize(tile, size: data.count, rowid: rowid)
        end -= cell.bytes
        let cellStart = end
        let overflowFirst = nextOverflow ?? SQLiteFileFormat.page(after: current.page)
        do {
            let buffer = pages.bytes
            let page = UnsafeMutableRawBufferPointer(rebasing: buffer[pageStart..<(pageStart + SQLiteFileFormat.pageSize)])
            var at = cellStart
            at += SQLiteFileFormat.putVarint(UInt64(record.payload), into: page, at: at)
            at += SQLiteFileFormat.putVarint(UInt64(rowid), into: page, at: at)
            let values = [Int64(tile.zoom), Int64(tile.column), Int64(tile.row)]
            page[at] = UInt8(record.header)
            page[at + 1] = 0
            for (column, value) in values.enumerated() {
                page[at + 2 + column] = UInt8(SQLiteFileFormat.integerType(value).type)
            }
            SQLiteFileFormat.putVarint(UInt64(12 + 2 * data.count), into: page, at: at + 5)
            at += record.header
            for value in values {
                let width = SQLiteFileFormat.integerType(value).bytes
                SQLiteFileFormat.putInteger(value, bytes: width, into: page, at: at)
                at += width
            }
            let localData = local - (record.payload - data.count)
            if localData > 0, let source = data.baseAddress {
                (page.baseAddress! + at).copyMemory(from: source, byteCount: localData)
            }
            at += localData
            if local < record.payload {
                SQLiteFileFormat.putUInt32(UInt32(overflowFirst), into: page, at: at)
                var offset = localData
                var number = overflowFirst
                for overflow in 0..<cell.overflowPages {
                    let start = (number - 1) * SQLiteFileFormat.pageSize - base
                    let target = UnsafeMutableRawBufferPointer(rebasing: buffer[start..<(start + SQLiteFileFormat.pageSize)])
                    let following = SQLiteFileFormat.page(after: number)
                    SQLiteFileFormat.putUInt32(overflow == cell.overflowPages - 1 ? 0 : UInt32(following), into: target, at: 0)
                    let count = min(SQLiteFileFormat.overflowContent, data.count - offset)
                    target.baseAddress!.advanced(by: 4).copyMemory(from: data.baseAddress! + offset, byteCount: count)
                    offset += count
                    number = following
                }
                nextOverflow = number
            }
            SQLiteFileFormat.putUInt16(cellStart, into: page, at: 8 + 2 * number)
            GeoPackageBulkWriter.header(page, type: SQLiteFileFormat.tableLeaf, cells: number + 1, contentStart: cellStart, right: nil)
        }
        expected += 1
        if expected == current.tiles.upperBound {
            leaf += 1
            end = SQLiteFileFormat.pageSize
            nextOverflow = nil
        }
    }

    /// True once every tile of the leaves has been added.
    public var isComplete: Bool { expected == tiles.upperBound }

    /// The leaves' bytes, once complete.
    public consuming func finish() throws -> AlignedPages {
        guard isComplete else { throw GeoPackageError("leaves \(leaves) are missing tiles from \(expected)") }
        return pages
    }
}
