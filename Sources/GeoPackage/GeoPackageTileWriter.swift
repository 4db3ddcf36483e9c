import Foundation
import GRDB
import GRDBSQLite
import Geometry
import TileGrid

/// Writes one WorldCRS84Quad tile pyramid into a new GeoPackage file.
///
/// One writer per file (SQLite has one writer anyway; MapProxy's two-writer runs are slower, see
/// export-peers §3). Tiles are appended in batches, one transaction each, through one prepared statement.
/// The file is built with a rollback journal (`journal_mode=PERSIST`) and `synchronous=OFF`: a process killed
/// mid-transaction leaves a hot journal that SQLite rolls back on the next open, so an export resumes from
/// its last checkpoint; power loss is covered by the caller's fsync before publishing. For this append-only
/// load the journal is nearly free: SQLite journals the few existing pages a transaction changes, not the new
/// ones (a WAL would write every page twice). ``finish()`` removes the journal.
///
/// Identical input gives a byte-identical file: `last_change` is given, not "now", and rows are written in
/// the order given.
public struct GeoPackageTileWriter: Sendable {
    public struct Options: Sendable {
        /// The tiles table's name (also `gpkg_contents.identifier`).
        public var tableName: String
        /// `gpkg_contents` bounds: the exported area's box, not the matrix set's (§1.1.3.1.1).
        public var contentsBounds: BoundingBox
        /// `gpkg_tile_matrix` gets a row for every zoom 0…maxZoom.
        public var maxZoom: Int
        /// `gpkg_contents.last_change`, fixed so that identical exports are identical files.
        public var lastChange: Date
        public var description: String

        public init(tableName: String, contentsBounds: BoundingBox, maxZoom: Int, lastChange: Date, description: String = "") {
            self.tableName = tableName
            self.contentsBounds = contentsBounds
            self.maxZoom = maxZoom
            self.lastChange = lastChange
            self.description = description
        }
    }

    private let queue: DatabaseQueue
    private let options: Options
    private let insertSQL: String

    /// Creates the file (it must not exist) with the GeoPackage header, core tables and an empty tiles table.
    public init(path: String, options: Options) throws {
        guard (0...WorldCRS84Quad.maxZoom).contains(options.maxZoom) else {
            throw GeoPackageError("zoom \(options.maxZoom) is outside the WorldCRS84Quad grid (0…22)")
        }
        if FileManager.default.fileExists(atPath: path) {
            throw GeoPackageError("\(path) exists already")
        }
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.label = "gpkg-writer"
        queue = try DatabaseQueue(path: path, configuration: configuration)
        self.options = options
        let table = quoted(options.tableName)
        // OR IGNORE: a resumed export may write again tiles it wrote after its last checkpoint.
        insertSQL = "INSERT OR IGNORE INTO \(table) (zoom_level, tile_column, tile_row, tile_data) VALUES (?, ?, ?, ?)"
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA page_size = 65536")
            try db.execute(sql: "PRAGMA journal_mode = PERSIST")
            try db.execute(sql: "PRAGMA synchronous = OFF")
            try db.execute(sql: "PRAGMA application_id = \(GeoPackageSchema.applicationID)")
            try db.execute(sql: "PRAGMA user_version = \(GeoPackageSchema.userVersion)")
            try db.inTransaction {
                try GeoPackageSchema.createPyramid(
                    db, table: options.tableName, dataType: "tiles", description: options.description, lastChange: Self.timestamp(options.lastChange),
                    bounds: options.contentsBounds, maxZoom: options.maxZoom
                )
                return .commit
            }
        }
    }

    /// Opens a package this writer started earlier, to append to it (a resumed export).
    public init(resuming path: String, options: Options) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw GeoPackageError("\(path) does not exist") }
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.label = "gpkg-writer"
        queue = try DatabaseQueue(path: path, configuration: configuration)
        self.options = options
        insertSQL = "INSERT OR IGNORE INTO \(quoted(options.tableName)) (zoom_level, tile_column, tile_row, tile_data) VALUES (?, ?, ?, ?)"
        let table = options.tableName
        let ok = try queue.writeWithoutTransaction { db -> Bool in
            try db.execute(sql: "PRAGMA journal_mode = PERSIST")
            try db.execute(sql: "PRAGMA synchronous = OFF")
            let check = try String.fetchOne(db, sql: "PRAGMA quick_check")
            let exists = try db.tableExists(table)
            return check == "ok" && exists
        }
        guard ok else {
            try? queue.close()
            throw GeoPackageError("\(path) is damaged; the export starts over")
        }
    }

    /// Tiles in the package.
    public func tileCount() throws -> Int {
        let sql = "SELECT count(*) FROM \(quoted(options.tableName))"
        return try queue.read { db in try Int.fetchOne(db, sql: sql) ?? 0 }
    }

    /// Closes the file as it is, to be resumed later (a paused export).
    public func suspend() throws {
        try queue.close()
    }

    /// Appends tiles in one transaction. Bytes are stored as given (tiles are copied, never re-encoded).
    /// Runs on GRDB's writer queue, not on the caller's thread.
    public func append(_ tiles: [(TileCoordinate, Data)]) async throws {
        guard !tiles.isEmpty else { return }
        let sql = insertSQL
        let maxZoom = options.maxZoom
        try await queue.writeWithoutTransaction { db in try db.inTransaction {
            // Bound through SQLite's C API on GRDB's prepared statement: integers directly and the blob
            // without a copy (SQLITE_STATIC: the bytes outlive the step). GRDB's StatementArguments box
            // every value, which costs more than the insert itself for small tiles.
            let statement = try db.cachedStatement(sql: sql).sqliteStatement
            for (tile, data) in tiles {
                guard tile.zoom <= maxZoom else {
                    throw GeoPackageError("tile \(tile) is above the package's max zoom \(maxZoom)")
                }
                sqlite3_reset(statement)
                sqlite3_bind_int64(statement, 1, Int64(tile.zoom))
                sqlite3_bind_int64(statement, 2, Int64(tile.column))
                sqlite3_bind_int64(statement, 3, Int64(tile.row))
                let code = data.withUnsafeBytes { bytes -> Int32 in
                    if let base = bytes.baseAddress {
                        sqlite3_bind_blob(statement, 4, base, Int32(bytes.count), nil)
                    } else {
                        sqlite3_bind_zeroblob(statement, 4, 0)
                    }
                    return sqlite3_step(statement)
                }
                sqlite3_clear_bindings(statement)
                guard code == SQLITE_DONE else {
                    throw GeoPackageError("tile \(tile) could not be written: \(String(cString: sqlite3_errmsg(db.sqliteConnection)))")
                }
            }
            sqlite3_reset(statement)
            return .commit
        } }
    }

    /// Removes the journal (one file, as GeoPackage readers expect) and closes it. The caller fsyncs and
    /// renames it into place.
    public func finish() throws {
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = DELETE") }
        try queue.close()
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}
