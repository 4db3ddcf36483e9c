import Foundation

/// How much disk a package MapDepot writes takes, page by page (issue #9: estimates counted the tile bytes only and
/// were half the real size of small exports).
///
/// The writer uses 64 KiB pages. SQLite keeps a row of up to 65,501 bytes in its leaf page; a longer one keeps a
/// local part there (8,199 bytes, or more when that fills the last overflow page better — SQLite's own rule) and the
/// rest in overflow pages of 65,532 bytes. A local part over half a page has its leaf page to itself; smaller ones
/// share, filling pages to about 85 % as rows are appended in order. The empty package (schema, SRS rows, matrix
/// tables, the tiles table and its unique index) is ``fixedPages`` pages; the index adds a page per ~4,000 tiles.
public enum GeoPackageSizeModel {
    public static let pageSize = 65_536
    /// The pages of a package with no tiles, as the writer makes it.
    public static let fixedPages = 12.0
    /// Bytes a row's payload has besides its blob: record header and three integers.
    static let rowOverhead = 12
    /// Bytes a cell takes in its leaf page besides its local payload: cell pointer, rowid and size.
    static let cellOverhead = 12
    /// SQLite's largest local payload of a table leaf cell (usable size − 35) and its smallest local part.
    static let maxLocal = pageSize - 35
    static let minLocal = (pageSize - 12) * 32 / 255 - 23
    static let sharedFill = 0.85
    static let indexEntriesPerPage = 4_000.0

    /// The pages one tile of `bytes` takes.
    public static func pages(tileBytes bytes: Int) -> Double {
        let payload = bytes + rowOverhead
        var local = payload
        var overflow = 0
        if payload > maxLocal {
            let spill = minLocal + (payload - minLocal) % (pageSize - 4)
            local = spill <= maxLocal ? spill : minLocal
            overflow = (payload - local + pageSize - 5) / (pageSize - 4)
        }
        let cell = local + cellOverhead
        let leaf = cell > pageSize / 2 ? 1.0 : Double(cell) / (Double(pageSize) * sharedFill)
        return Double(overflow) + leaf
    }

    /// ``pages(tileBytes:)`` as SQL over a column of blob lengths named `column`, for `sum(…)` in an inventory query.
    public static func pagesSQL(lengthColumn b: String) -> String {
        let payload = "(\(b) + \(rowOverhead))"
        let spill = "(\(minLocal) + (\(payload) - \(minLocal)) % \(pageSize - 4))"
        let local = "(CASE WHEN \(payload) <= \(maxLocal) THEN \(payload) WHEN \(spill) <= \(maxLocal) THEN \(spill) ELSE \(minLocal) END)"
        let overflow = "(CASE WHEN \(payload) <= \(maxLocal) THEN 0 ELSE (\(payload) - \(local) + \(pageSize - 5)) / \(pageSize - 4) END)"
        let leaf = "(CASE WHEN \(local) + \(cellOverhead) > \(pageSize / 2) THEN 1.0 ELSE (\(local) + \(cellOverhead)) / \(Double(pageSize) * sharedFill) END)"
        return "(\(overflow) + \(leaf))"
    }

    /// The package's size for `tiles` tiles whose pages sum to `tilePages`.
    public static func bytes(tiles: Int, tilePages: Double) -> Int64 {
        let pages = fixedPages + tilePages + (Double(tiles) / indexEntriesPerPage).rounded(.up)
        return Int64(pages.rounded(.up)) * Int64(pageSize)
    }
}
