import Foundation
import GRDB
import GRDBSQLite
import TileGrid

/// Reads tiles from a tile table of an existing GeoPackage (or any SQLite file with the same columns).
///
/// Opened read-only through a pool so that several tasks read at once.
public struct GeoPackageTileReader: Sendable {
    private let pool: DatabasePool
    public let path: String
    public let table: String
    /// MBTiles count rows from the bottom (TMS); GeoPackage from the top.
    public let rowsFromBottom: Bool

    /// - Parameters:
    ///   - table: the tiles table; nil picks the first `tiles` entry of `gpkg_contents`.
    ///   - rowsFromBottom: true for MBTiles-style files.
    public init(path: String, table: String?, rowsFromBottom: Bool = false) throws {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw GeoPackageError("\(path) does not exist or cannot be read")
        }
        self.path = path
        var configuration = Configuration()
        configuration.readonly = true
        configuration.maximumReaderCount = 4
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            if let table {
                self.table = table
            } else {
                guard
                    let first = try pool.read({ db in
                        try String.fetchOne(db, sql: "SELECT table_name FROM gpkg_contents WHERE data_type = 'tiles' ORDER BY table_name")
                    })
                else { throw GeoPackageError("\(path) holds no tiles table") }
                self.table = first
            }
            let name = self.table
            let exists = try pool.read { db in try db.tableExists(name) }
            guard exists else { throw GeoPackageError("\(path) has no table \(name)") }
        } catch let error as GeoPackageError {
            throw error
        } catch {
            throw GeoPackageError("\(path) is not a readable SQLite file: \(error)")
        }
        self.rowsFromBottom = rowsFromBottom
    }

    private func storedRow(zoom: Int, row: Int) -> Int {
        rowsFromBottom ? WorldCRS84Quad.matrixHeight(zoom) - 1 - row : row
    }

    /// The tiles of one row between two columns (half-open), keyed by column.
    public func tiles(zoom: Int, row: Int, columns: Range<Int>) async throws -> [Int: Data] {
        // One index seek per tile: the tables' UNIQUE index is (zoom_level, tile_column, tile_row), so a
        // range over columns on one row would walk every row of every column in the range.
        let sql = "SELECT tile_data FROM \(quoted(table)) WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?"
        let stored = storedRow(zoom: zoom, row: row)
        // Stepped through SQLite's C API on GRDB's cached statement: one copy of each blob into `Data`,
        // no `Row` boxing (the export's read path; see the writer for the same reasoning).
        return try await pool.read { db in
            let statement = try db.cachedStatement(sql: sql).sqliteStatement
            defer { sqlite3_reset(statement) }
            var result: [Int: Data] = [:]
            result.reserveCapacity(columns.count)
            for column in columns {
                guard try Self.step(statement, zoom: zoom, column: column, storedRow: stored, db) else { continue }
                let count = Int(sqlite3_column_bytes(statement, 0))
                if let bytes = sqlite3_column_blob(statement, 0) {
                    result[column] = Data(bytes: bytes, count: count)
                } else {
                    result[column] = Data()
                }
            }
            return result
        }
    }

    /// The sizes of the tiles present in each run of columns, in column order. SQLite answers `length()` of a blob from
    /// the record's header, without reading the blob (the bulk writer's first pass, ``GeoPackageBulkLayout``).
    public func sizes(of runs: [(zoom: Int, row: Int, columns: Range<Int>)]) async throws -> [[(column: Int, size: Int)]] {
        let sql = "SELECT length(tile_data) FROM \(quoted(table)) WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?"
        return try await pool.read { [self] db in
            let statement = try db.cachedStatement(sql: sql).sqliteStatement
            defer { sqlite3_reset(statement) }
            return try runs.map { run in
                let stored = storedRow(zoom: run.zoom, row: run.row)
                var found: [(column: Int, size: Int)] = []
                for column in run.columns {
                    guard try Self.step(statement, zoom: run.zoom, column: column, storedRow: stored, db) else { continue }
                    found.append((column, Int(sqlite3_column_int64(statement, 0))))
                }
                return found
            }
        }
    }

    /// The pages of `leaves`, their tiles read in rowid order straight into the pages (``GeoPackageLeafEncoder``).
    public func leafPages(_ leaves: Range<Int>, of layout: GeoPackageBulkLayout, pool buffers: PagePool) async throws -> AlignedPages {
        let sql = "SELECT tile_data FROM \(quoted(table)) WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?"
        return try await pool.read { [self] db in
            let statement = try db.cachedStatement(sql: sql).sqliteStatement
            defer { sqlite3_reset(statement) }
            var encoder = GeoPackageLeafEncoder(layout: layout, leaves: leaves, pool: buffers)
            for index in encoder.tiles {
                let tile = layout.coordinates[index]
                let stored = storedRow(zoom: tile.zoom, row: tile.row)
                guard try Self.step(statement, zoom: tile.zoom, column: tile.column, storedRow: stored, db) else {
                    throw GeoPackageError("tile \(tile) went missing while it was copied")
                }
                let count = Int(sqlite3_column_bytes(statement, 0))
                try encoder.add(UnsafeRawBufferPointer(start: sqlite3_column_blob(statement, 0), count: count))
            }
            return try encoder.finish()
        }
    }

    /// Steps a `… WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?` statement for one tile: true on its row,
    /// false when the source has no such tile. Reset first: a statement left on a row refuses new bindings.
    private static func step(_ statement: OpaquePointer, zoom: Int, column: Int, storedRow: Int, _ db: Database) throws -> Bool {
        sqlite3_reset(statement)
        sqlite3_bind_int64(statement, 1, Int64(zoom))
        sqlite3_bind_int64(statement, 2, Int64(column))
        sqlite3_bind_int64(statement, 3, Int64(storedRow))
        let code = sqlite3_step(statement)
        if code == SQLITE_DONE { return false }
        guard code == SQLITE_ROW else { throw GeoPackageError("reading tiles failed: \(String(cString: sqlite3_errmsg(db.sqliteConnection)))") }
        return true
    }

    /// One tile, or nil.
    public func tile(_ coordinate: TileCoordinate) async throws -> Data? {
        try await tiles(zoom: coordinate.zoom, row: coordinate.row, columns: coordinate.column..<(coordinate.column + 1))[
            coordinate.column
        ]
    }

    /// Per zoom: tile count and total bytes.
    /// Tiles, bytes and the pages they would take in a package (``GeoPackageSizeModel``), per zoom.
    public func inventory() async throws -> [(zoom: Int, count: Int, bytes: Int, pages: Double)] {
        try await pool.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT zoom_level, count(*), sum(b), sum(\(GeoPackageSizeModel.pagesSQL(lengthColumn: "b")))
                    FROM (SELECT zoom_level, length(tile_data) AS b FROM \(quoted(table))) GROUP BY zoom_level
                    """
            )
            return rows.map { (zoom: $0[0], count: $0[1], bytes: $0[2], pages: $0[3]) }
        }
    }

    /// Every tile coordinate at `zoom` (rows from the top).
    public func coordinates(zoom: Int) async throws -> [TileCoordinate] {
        let height = WorldCRS84Quad.matrixHeight(zoom)
        let fromBottom = rowsFromBottom
        return try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT tile_column, tile_row FROM \(quoted(table)) WHERE zoom_level = ?", arguments: [zoom])
                .map { row in
                    let stored: Int = row[1]
                    return TileCoordinate(zoom: zoom, column: row[0], row: fromBottom ? height - 1 - stored : stored)
                }
        }
    }
}
