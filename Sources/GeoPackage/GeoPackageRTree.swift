import Foundation
import GRDB

/// Builds a features table's R-tree (`rtree_<table>_geom`, GeoPackage Annex F.3) in one pass, by writing SQLite's R-tree
/// shadow tables directly with a Sort-Tile-Recursive packed tree, as GDAL does since 3.6 for the same reason: each
/// insert into the virtual table rewrites every node on its path, 13 µs a row here, most of a 100,000-feature apply
/// (issue #14). The tree is SQLite's own format, so the virtual table, its triggers and `rtreecheck()` go on working:
/// - `<rtree>_node(nodeno, data)`: node 1 is the root, and its first two bytes hold the tree's depth (0 when the root is
///   a leaf); each node is a big-endian cell count at bytes 2–3, then cells of a 64-bit id (a feature's fid in a leaf, a
///   child's node number above) and minX, maxX, minY, maxY as 32-bit floats, zero-padded to the node size the virtual
///   table was made with (the root's length).
/// - `<rtree>_rowid(rowid, nodeno)`: each feature's leaf; `<rtree>_parent(nodeno, parentnode)`: each non-root node's parent.
/// Coordinates are rounded outward to 32-bit floats, as SQLite rounds what it stores, so a box always holds its feature.
public enum GeoPackageRTree {
    /// One feature's envelope.
    public struct Entry: Sendable {
        public var id: Int64
        public var minX: Double, maxX: Double, minY: Double, maxY: Double

        public init(id: Int64, minX: Double, maxX: Double, minY: Double, maxY: Double) {
            self.id = id
            self.minX = minX
            self.maxX = maxX
            self.minY = minY
            self.maxY = maxY
        }
    }

    /// A cell as stored: an id and a box of 32-bit floats.
    struct Cell {
        var id: Int64
        var minX: Float, maxX: Float, minY: Float, maxY: Float
        var centerX: Float { (minX + maxX) / 2 }
        var centerY: Float { (minY + maxY) / 2 }
    }

    /// Replaces the R-tree of `table` with one holding the envelope of every non-empty geometry of the table (read from
    /// the blobs' headers, or computed from the geometry when a blob has no envelope).
    public static func rebuild(_ db: Database, table: String) throws {
        var entries: [Entry] = []
        let rows = try Row.fetchCursor(db, sql: "SELECT fid, geom FROM \(quoted(table)) WHERE geom NOT NULL")
        while let row = try rows.next() {
            let blob = [UInt8](row["geom"] as Data)
            guard let box = GeoPackageGeometry.blobEnvelope(blob) else { continue }
            entries.append(Entry(id: row["fid"], minX: box.minX, maxX: box.maxX, minY: box.minY, maxY: box.maxY))
        }
        try load(db, table: table, entries: entries)
    }

    /// Replaces the R-tree of `table` with a packed tree of `entries`.
    public static func load(_ db: Database, table: String, entries: [Entry]) throws {
        let rtree = "rtree_\(table)_geom"
        let node = quoted(rtree + "_node")
        guard let nodeSize = try Int.fetchOne(db, sql: "SELECT length(data) FROM \(node) WHERE nodeno = 1"), nodeSize >= 4 + 24 * 2 else {
            throw GeoPackageError("the R-tree \(rtree) has no root node")
        }
        let fanout = (nodeSize - 4) / 24
        try db.execute(sql: "DELETE FROM \(node); DELETE FROM \(quoted(rtree + "_rowid")); DELETE FROM \(quoted(rtree + "_parent"))")

        // Levels from the leaves up: each level's nodes are runs of cells; the level above has one cell per node.
        var levels: [[[Cell]]] = [pack(entries.map(cell), fanout: fanout)]
        while levels.last!.count > 1 {
            let parents = levels.last!.enumerated().map { index, children in bounds(of: children, id: Int64(index)) }
            levels.append(pack(parents, fanout: fanout))
        }
        // Node numbers from the root down (the root is 1), level by level; a cell above the leaves names its child by
        // the child's index in the level below, renumbered here.
        var firstNumber = [Int64](repeating: 0, count: levels.count)
        var next: Int64 = 1
        for level in levels.indices.reversed() {
            firstNumber[level] = next
            next += Int64(levels[level].count)
        }
        let insertNode = try db.cachedStatement(sql: "INSERT INTO \(node) (nodeno, data) VALUES (?, ?)")
        let insertRowid = try db.cachedStatement(sql: "INSERT INTO \(quoted(rtree + "_rowid")) (rowid, nodeno) VALUES (?, ?)")
        let insertParent = try db.cachedStatement(sql: "INSERT INTO \(quoted(rtree + "_parent")) (nodeno, parentnode) VALUES (?, ?)")
        let depth = levels.count - 1
        for level in levels.indices {
            for (index, cells) in levels[level].enumerated() {
                let number = firstNumber[level] + Int64(index)
                var data = [UInt8](repeating: 0, count: nodeSize)
                if number == 1 { put(UInt16(depth), at: 0, in: &data) }
                put(UInt16(cells.count), at: 2, in: &data)
                for (position, cell) in cells.enumerated() {
                    let id = level == 0 ? cell.id : firstNumber[level - 1] + cell.id
                    let at = 4 + position * 24
                    put(UInt64(bitPattern: id), at: at, in: &data)
                    for (offset, value) in [cell.minX, cell.maxX, cell.minY, cell.maxY].enumerated() {
                        put(value.bitPattern, at: at + 8 + offset * 4, in: &data)
                    }
                    if level == 0 {
                        try insertRowid.execute(arguments: [id, number])
                    } else {
                        try insertParent.execute(arguments: [id, number])
                    }
                }
                try insertNode.execute(arguments: [number, Data(data)])
            }
        }
        if levels[0].isEmpty {
            // No feature: an empty root leaf, as the virtual table makes it.
            try insertNode.execute(arguments: [1, Data(count: nodeSize)])
        }
    }

    /// Sort-Tile-Recursive: cells sorted by x into vertical slices of whole nodes, each slice sorted by y and cut into
    /// nodes of `fanout` cells.
    static func pack(_ cells: [Cell], fanout: Int) -> [[Cell]] {
        guard !cells.isEmpty else { return [] }
        let nodes = (cells.count + fanout - 1) / fanout
        let slices = Int(Double(nodes).squareRoot().rounded(.up))
        let perSlice = ((nodes + slices - 1) / slices) * fanout
        let byX = cells.sorted { $0.centerX < $1.centerX || ($0.centerX == $1.centerX && $0.id < $1.id) }
        var packed: [[Cell]] = []
        packed.reserveCapacity(nodes + slices)
        for start in stride(from: 0, to: byX.count, by: perSlice) {
            let slice = byX[start..<min(byX.count, start + perSlice)].sorted { $0.centerY < $1.centerY || ($0.centerY == $1.centerY && $0.id < $1.id) }
            for first in stride(from: 0, to: slice.count, by: fanout) {
                packed.append(Array(slice[first..<min(slice.count, first + fanout)]))
            }
        }
        return packed
    }

    static func bounds(of cells: [Cell], id: Int64) -> Cell {
        var box = Cell(id: id, minX: .infinity, maxX: -.infinity, minY: .infinity, maxY: -.infinity)
        for cell in cells {
            box.minX = min(box.minX, cell.minX)
            box.maxX = max(box.maxX, cell.maxX)
            box.minY = min(box.minY, cell.minY)
            box.maxY = max(box.maxY, cell.maxY)
        }
        return box
    }

    static func cell(_ entry: Entry) -> Cell {
        Cell(id: entry.id, minX: down(entry.minX), maxX: up(entry.maxX), minY: down(entry.minY), maxY: up(entry.maxY))
    }

    /// The largest float not above `value`, and the smallest not below it.
    static func down(_ value: Double) -> Float {
        let float = Float(value)
        return Double(float) > value ? float.nextDown : float
    }

    static func up(_ value: Double) -> Float {
        let float = Float(value)
        return Double(float) < value ? float.nextUp : float
    }

    static func put<Value: FixedWidthInteger>(_ value: Value, at offset: Int, in data: inout [UInt8]) {
        let bigEndian = value.bigEndian
        withUnsafeBytes(of: bigEndian) { bytes in
            for index in bytes.indices { data[offset + index] = bytes[index] }
        }
    }
}
