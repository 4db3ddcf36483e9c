import Foundation
import GRDB
import GRDBSQLite
import Geometry
import Raster
import TileGrid

/// Writes a DEM as an OGC GeoPackage 2D Gridded Coverage (OGC 17-066r1, issue #13) on the WorldCRS84Quad grid: the
/// core and tiles tables, `gpkg_contents.data_type = '2d-gridded-coverage'`, the coverage ancillary row (datatype,
/// scale, offset, precision, data_null, grid_cell_encoding, uom), a tile ancillary row per tile (min, max, mean,
/// std_dev), the three `gpkg_extensions` rows and EPSG:4979 — what GDAL's GPKG driver needs to open it
/// (ui-sync-dem-3d-anchors §C1). Tiles are float32 TIFF or 16-bit PNG (``CoverageEncoding``).
public struct GriddedCoverageWriter: Sendable {
    public struct Options: Sendable {
        public var tableName: String
        public var contentsBounds: BoundingBox
        /// Tile matrix rows for zoom 0…maxZoom; tiles are written at whatever zooms are given.
        public var maxZoom: Int
        public var lastChange: Date
        public var description: String
        public var encoding: CoverageEncoding
        /// Unit of measure, e.g. "m".
        public var uom: String?
        /// `grid-value-is-center` (GDAL's default, AREA_OR_POINT=Point) or `grid-value-is-area`.
        public var gridCellEncoding: String

        public init(
            tableName: String, contentsBounds: BoundingBox, maxZoom: Int, lastChange: Date, description: String = "", encoding: CoverageEncoding,
            uom: String? = "m", gridCellEncoding: String = "grid-value-is-center"
        ) {
            self.tableName = tableName
            self.contentsBounds = contentsBounds
            self.maxZoom = maxZoom
            self.lastChange = lastChange
            self.description = description
            self.encoding = encoding
            self.uom = uom
            self.gridCellEncoding = gridCellEncoding
        }
    }

    static let extensionDefinition = "http://docs.opengeospatial.org/is/17-066r1/17-066r1.html"

    /// EPSG:4979 (WGS 84 with ellipsoidal heights), which the extension requires in `gpkg_spatial_ref_sys`.
    static let wgs84Height3D =
        #"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],"#
        + #"AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],"#
        + #"UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4979"]]"#

    private let queue: DatabaseQueue
    private let options: Options

    public init(path: String, options: Options) throws {
        guard (0...WorldCRS84Quad.maxZoom).contains(options.maxZoom) else {
            throw GeoPackageError("zoom \(options.maxZoom) is outside the WorldCRS84Quad grid (0…22)")
        }
        if FileManager.default.fileExists(atPath: path) { throw GeoPackageError("\(path) exists already") }
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.label = "gpkg-coverage-writer"
        queue = try DatabaseQueue(path: path, configuration: configuration)
        self.options = options
        let (datatype, offset, null): (String, Double, Double) =
            switch options.encoding {
            case .float32(let null): ("float", 0, Double(null))
            case .png16(let offset): ("integer", offset, Double(CoverageEncoding.pngNull))
            }
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA page_size = 65536")
            try db.execute(sql: "PRAGMA application_id = \(GeoPackageSchema.applicationID)")
            try db.execute(sql: "PRAGMA user_version = \(GeoPackageSchema.userVersion)")
            try db.inTransaction {
                try GeoPackageSchema.createPyramid(
                    db, table: options.tableName, dataType: "2d-gridded-coverage", description: options.description,
                    lastChange: GeoPackageTileWriter.timestamp(options.lastChange), bounds: Self.snapped(options.contentsBounds, zoom: options.maxZoom),
                    maxZoom: options.maxZoom,
                    extraSRS: [("WGS 84 3D", 4979, Self.wgs84Height3D, "longitude, latitude and ellipsoidal height on the WGS 84 spheroid")]
                )
                try db.execute(
                    sql: """
                        CREATE TABLE gpkg_extensions (
                          table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL,
                          CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
                        CREATE TABLE gpkg_2d_gridded_coverage_ancillary (
                          id INTEGER PRIMARY KEY AUTOINCREMENT,
                          tile_matrix_set_name TEXT NOT NULL UNIQUE,
                          datatype TEXT NOT NULL DEFAULT 'integer',
                          scale REAL NOT NULL DEFAULT 1.0,
                          "offset" REAL NOT NULL DEFAULT 0.0,
                          "precision" REAL DEFAULT 1.0,
                          data_null REAL,
                          grid_cell_encoding TEXT DEFAULT 'grid-value-is-center',
                          uom TEXT,
                          field_name TEXT DEFAULT 'Height',
                          quantity_definition TEXT DEFAULT 'Height',
                          CONSTRAINT fk_g2dgtct_name FOREIGN KEY (tile_matrix_set_name) REFERENCES gpkg_tile_matrix_set (table_name),
                          CHECK (datatype IN ('integer', 'float')));
                        CREATE TABLE gpkg_2d_gridded_tile_ancillary (
                          id INTEGER PRIMARY KEY AUTOINCREMENT,
                          tpudt_name TEXT NOT NULL,
                          tpudt_id INTEGER NOT NULL,
                          scale REAL NOT NULL DEFAULT 1.0,
                          "offset" REAL NOT NULL DEFAULT 0.0,
                          min REAL DEFAULT NULL,
                          max REAL DEFAULT NULL,
                          mean REAL DEFAULT NULL,
                          std_dev REAL DEFAULT NULL,
                          CONSTRAINT fk_g2dgtat_name FOREIGN KEY (tpudt_name) REFERENCES gpkg_contents (table_name),
                          UNIQUE (tpudt_name, tpudt_id));
                        """
                )
                for (tableName, column) in [("gpkg_2d_gridded_coverage_ancillary", nil), ("gpkg_2d_gridded_tile_ancillary", nil), (options.tableName, "tile_data")] {
                    try db.execute(
                        sql: "INSERT INTO gpkg_extensions VALUES (?, ?, 'gpkg_2d_gridded_coverage', ?, 'read-write')",
                        arguments: [tableName, column, Self.extensionDefinition]
                    )
                }
                try db.execute(
                    sql: """
                        INSERT INTO gpkg_2d_gridded_coverage_ancillary
                          (tile_matrix_set_name, datatype, scale, "offset", "precision", data_null, grid_cell_encoding, uom)
                        VALUES (?, ?, 1.0, ?, 1.0, ?, ?, ?)
                        """,
                    arguments: [options.tableName, datatype, offset, null, options.gridCellEncoding, options.uom]
                )
                return .commit
            }
        }
    }

    /// The bounds widened to whole pixels of `zoom`: GDAL takes the raster's origin and size from `gpkg_contents`, so
    /// on the pixel grid its pixels are the tiles' own and a point reads the cell that holds it (off the grid, GDAL
    /// resamples the tiles and a point near a cell edge read a neighbour).
    static func snapped(_ box: BoundingBox, zoom: Int) -> BoundingBox {
        let pixel = WorldCRS84Quad.resolution(zoom)
        func down(_ value: Double, _ origin: Double) -> Double { origin + ((value - origin) / pixel + 1e-9).rounded(.down) * pixel }
        func up(_ value: Double, _ origin: Double) -> Double { origin + ((value - origin) / pixel - 1e-9).rounded(.up) * pixel }
        return BoundingBox(minX: down(box.minX, -180), minY: down(box.minY, -90), maxX: up(box.maxX, -180), maxY: up(box.maxY, -90))
    }

    /// Appends tiles and their statistics in one transaction.
    public func append(_ tiles: [(tile: TileCoordinate, data: [UInt8], statistics: TileStatistics)]) async throws {
        let name = options.tableName
        let insert = "INSERT INTO \(quoted(name)) (zoom_level, tile_column, tile_row, tile_data) VALUES (?, ?, ?, ?)"
        try await queue.write { db in
            for item in tiles {
                try db.execute(sql: insert, arguments: [item.tile.zoom, item.tile.column, item.tile.row, Data(item.data)])
                try db.execute(
                    sql: "INSERT INTO gpkg_2d_gridded_tile_ancillary (tpudt_name, tpudt_id, scale, \"offset\", min, max, mean, std_dev) VALUES (?, ?, 1.0, 0.0, ?, ?, ?, ?)",
                    arguments: [name, db.lastInsertedRowID, item.statistics.min, item.statistics.max, item.statistics.mean, item.statistics.standardDeviation]
                )
            }
        }
    }

    /// Tiles written.
    public func tileCount() throws -> Int {
        try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(quoted(options.tableName))") ?? 0 }
    }

    /// Closes the file.
    public func finish() throws {
        try queue.close()
    }
}
