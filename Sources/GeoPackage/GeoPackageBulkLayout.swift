import TileGrid

/// Where every page of a bulk-written tiles table goes, decided from the tiles' coordinates and sizes alone, before a
/// single tile is read (issue #15).
///
/// Knowing the whole layout first is what lets ``GeoPackageBulkWriter`` write the file once, front to back: the root
/// pages (in the template's first pages), the leaves with their overflow pages in rowid order, then the tables'
/// interior pages and the unique index. Rows get rowids 1…n in the order given, as `AUTOINCREMENT` would give them.
///
/// File order: template pages `1…templatePages` (the two roots among them), then every leaf followed by its cells'
/// overflow pages, then the table's interior pages below the root, then the index's pages below its root. The page
/// holding the byte at 1 GiB is skipped and left zero: SQLite keeps it for its locks and never uses it
/// (``SQLiteFileFormat/lockBytePage``).
public struct GeoPackageBulkLayout: Sendable {
    /// One table leaf: tiles `tiles` (indices into the input), at `page`, its overflow pages right after it (around the
    /// lock-byte page).
    public struct Leaf: Sendable, Equatable {
        public var tiles: Range<Int>
        public var page: Int
        /// Pages from `page` on that this leaf spans, itself included.
        public var pages: Int
    }

    /// An interior page of the table: `cells` (left child, largest rowid under it) and the right-most child.
    struct TableInterior: Sendable {
        var page: Int
        var cells: [(child: Int, key: Int64)]
        var right: Int
    }

    /// A page of the index: on a leaf, entries only; on an interior page, each entry with its left child, and a right child.
    struct IndexPage: Sendable {
        var page: Int
        var entries: [Int32]
        var children: [Int]
    }

    public let coordinates: [TileCoordinate]
    public let sizes: [Int]
    public let leaves: [Leaf]
    let tableInterior: [TableInterior]
    let indexPages: [IndexPage]
    public let templatePages: Int
    public let tableRoot: Int
    public let indexRoot: Int
    public let totalPages: Int

    /// - Parameters:
    ///   - coordinates: the tiles to write, in rowid order (at least two leaves' worth: a table of one leaf has its
    ///     tiles on the root page, which comes first in the file, before the tiles could be read).
    ///   - sizes: each tile's bytes.
    ///   - templatePages: pages of the template the tables' roots are in.
    public init(coordinates: [TileCoordinate], sizes: [Int], templatePages: Int, tableRoot: Int, indexRoot: Int) {
        self.coordinates = coordinates
        self.sizes = sizes
        self.templatePages = templatePages
        self.tableRoot = tableRoot
        self.indexRoot = indexRoot
        var next = templatePages + 1
        /// The next free page, never the lock-byte page.
        func allocate() -> Int {
            if next == SQLiteFileFormat.lockBytePage { next += 1 }
            next += 1
            return next - 1
        }

        // Leaves, filled in order; each followed by its cells' overflow pages.
        var leaves: [Leaf] = []
        var start = 0
        var used = 8
        var overflow = 0
        func addLeaf(_ tiles: Range<Int>) {
            let page = allocate()
            var last = page
            for _ in 0..<overflow { last = allocate() }
            leaves.append(Leaf(tiles: tiles, page: page, pages: last - page + 1))
        }
        for index in coordinates.indices {
            let cell = Self.tileCellSize(coordinates[index], size: sizes[index], rowid: Int64(index + 1))
            if used + cell.bytes + 2 > SQLiteFileFormat.pageSize && index > start {
                addLeaf(start..<index)
                start = index
                used = 8
                overflow = 0
            }
            used += cell.bytes + 2
            overflow += cell.overflowPages
        }
        if start < coordinates.count || leaves.isEmpty {
            addLeaf(start..<coordinates.count)
        }
        self.leaves = leaves

        // The table's interior levels, bottom up; the top one is the root.
        var tableInterior: [TableInterior] = []
        var level = leaves.map { (page: $0.page, key: Int64($0.tiles.upperBound)) }
        while level.count > 1 {
            let groups = Self.groups(level.map { 4 + SQLiteFileFormat.varintLength(UInt64($0.key)) + 2 }, header: 12)
            var upper: [(page: Int, key: Int64)] = []
            for group in groups {
                let page: Int
                page = groups.count == 1 ? tableRoot : allocate()
                let children = level[group]
                tableInterior.append(
                    TableInterior(page: page, cells: children.dropLast().map { ($0.page, $0.key) }, right: children.last!.page)
                )
                upper.append((page, children.last!.key))
            }
            level = upper
        }
        self.tableInterior = tableInterior

        // The unique index on (zoom_level, tile_column, tile_row), each entry ending in its rowid.
        let order = coordinates.indices.sorted {
            let a = coordinates[$0], b = coordinates[$1]
            return (a.zoom, a.column, a.row) < (b.zoom, b.column, b.row)
        }.map { Int32($0) }
        var indexPages: [IndexPage] = []
        var entries = order
        var children: [Int] = []
        var isLeafLevel = true
        while true {
            let cellBytes = entries.map { entry -> Int in
                let payload = Self.indexPayloadSize(coordinates[Int(entry)], rowid: Int64(entry) + 1)
                return (isLeafLevel ? 0 : 4) + SQLiteFileFormat.varintLength(UInt64(payload)) + payload + 2
            }
            let split = Self.btreeSplit(cellBytes, header: isLeafLevel ? 8 : 12)
            if split.count == 1 {
                indexPages.append(IndexPage(page: indexRoot, entries: entries, children: children))
                break
            }
            var dividers: [Int32] = []
            var pages: [Int] = []
            for (number, range) in split.enumerated() {
                let page = allocate()
                pages.append(page)
                // Entry j lies between children j and j + 1, so a page of entries a..<b has children a...b.
                let pageChildren = isLeafLevel ? [] : Array(children[range.lowerBound...range.upperBound])
                indexPages.append(IndexPage(page: page, entries: Array(entries[range]), children: pageChildren))
                if number + 1 < split.count { dividers.append(entries[range.upperBound]) }
            }
            entries = dividers
            children = pages
            isLeafLevel = false
        }
        self.indexPages = indexPages
        totalPages = next - 1
    }

    /// The leaf holding tile `index` (or the leaf count, past the end).
    public func leaf(containing index: Int) -> Int {
        var low = 0
        var high = leaves.count
        while low < high {
            let middle = (low + high) / 2
            if leaves[middle].tiles.upperBound <= index { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The file offset where leaf `index` starts (the end of the leaves, past the last).
    public func offset(ofLeaf index: Int) -> Int {
        let page = index < leaves.count ? leaves[index].page : leaves.last.map { $0.page + $0.pages } ?? templatePages + 1
        return (page - 1) * SQLiteFileFormat.pageSize
    }

    /// The record of a tile row: `(NULL, zoom_level, tile_column, tile_row, tile_data)` (the `id` column is the rowid
    /// and stored as NULL), and its header's length.
    static func tileRecord(_ tile: TileCoordinate, size: Int) -> (payload: Int, header: Int) {
        let blobType = UInt64(12 + 2 * size)
        let header = 1 + 1 + 3 + SQLiteFileFormat.varintLength(blobType)
        let body = SQLiteFileFormat.integerType(Int64(tile.zoom)).bytes + SQLiteFileFormat.integerType(Int64(tile.column)).bytes
            + SQLiteFileFormat.integerType(Int64(tile.row)).bytes + size
        return (header + body, header)
    }

    /// A table leaf cell's bytes (payload length, rowid, local payload, first overflow page) and its overflow pages.
    static func tileCellSize(_ tile: TileCoordinate, size: Int, rowid: Int64) -> (bytes: Int, overflowPages: Int) {
        let payload = tileRecord(tile, size: size).payload
        let local = SQLiteFileFormat.localSize(payload: payload, maxLocal: SQLiteFileFormat.tableLeafMaxLocal)
        let bytes = SQLiteFileFormat.varintLength(UInt64(payload)) + SQLiteFileFormat.varintLength(UInt64(rowid)) + local
            + (local < payload ? 4 : 0)
        return (bytes, SQLiteFileFormat.overflowPages(payload: payload, maxLocal: SQLiteFileFormat.tableLeafMaxLocal))
    }

    /// An index entry's payload: the record `(zoom_level, tile_column, tile_row, rowid)` (always under a page's local
    /// limit).
    static func indexPayloadSize(_ tile: TileCoordinate, rowid: Int64) -> Int {
        5 + SQLiteFileFormat.integerType(Int64(tile.zoom)).bytes + SQLiteFileFormat.integerType(Int64(tile.column)).bytes
            + SQLiteFileFormat.integerType(Int64(tile.row)).bytes + SQLiteFileFormat.integerType(rowid).bytes
    }

    /// Consecutive groups of children for interior pages of a B+tree level (each cell `bytes`, pointer included),
    /// every group at least two children, so that no interior page is left without a cell.
    static func groups(_ bytes: [Int], header: Int) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var start = 0
        var used = header
        for index in bytes.indices {
            // The last child of a group is the right-most pointer and takes no cell.
            if used + bytes[index] > SQLiteFileFormat.pageSize && index - start >= 2 {
                result.append(start..<(index + 1))
                start = index + 1
                used = header
                continue
            }
            used += bytes[index]
        }
        if start < bytes.count {
            if bytes.count - start == 1, let last = result.popLast() {
                result.append(last.lowerBound..<(last.upperBound - 1))
                result.append((last.upperBound - 1)..<bytes.count)
            } else {
                result.append(start..<bytes.count)
            }
        }
        return result
    }

    /// The pages of one B-tree level (index b-trees keep keys in interior pages, so one entry between two pages goes up
    /// a level). Returns each page's entries; the entry after each page but the last is its divider. No page is empty.
    static func btreeSplit(_ bytes: [Int], header: Int) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var start = 0
        var used = header
        var index = 0
        while index < bytes.count {
            if used + bytes[index] > SQLiteFileFormat.pageSize && index > start {
                // `index` goes up; the next page starts after it. If it was the last entry, give the page's last
                // entry up instead, so that the next page holds one.
                if index == bytes.count - 1 {
                    result.append(start..<(index - 1))
                    start = index
                } else {
                    result.append(start..<index)
                    start = index + 1
                }
                used = header
                index = start
                continue
            }
            used += bytes[index]
            index += 1
        }
        result.append(start..<bytes.count)
        return result
    }
}
