import Foundation
import GRDB
import Geometry
import TileGrid

/// The SQL of a tiles-only GeoPackage 1.2.1 (OGC 12-128r15/r18). Clause numbers are the 1.2.1 standard's.
enum GeoPackageSchema {
    /// `application_id` 'GPKG' (§1.1.1.1.1 Req 2).
    static let applicationID: Int32 = 0x4750_4B47
    /// `user_version` 10201 = GeoPackage 1.2.1 (§1.1.1.1.1 Req 2).
    static let userVersion = 10201

    /// EPSG:4326 as OGC WKT 1, the definition GDAL writes (§1.1.2.1.1 Req 11: WKT required).
    static let wgs84Definition =
        #"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],"#
        + #"AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],"#
        + #"UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],"#
        + #"AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]"#

    /// Core tables (§1.1.2 gpkg_spatial_ref_sys, §1.1.3 gpkg_contents) and the tiles tables
    /// (§2.2.6 gpkg_tile_matrix_set, §2.2.7 gpkg_tile_matrix), with the three required SRS rows (Req 11).
    static let core = """
        CREATE TABLE gpkg_spatial_ref_sys (
          srs_name TEXT NOT NULL,
          srs_id INTEGER NOT NULL PRIMARY KEY,
          organization TEXT NOT NULL,
          organization_coordsys_id INTEGER NOT NULL,
          definition TEXT NOT NULL,
          description TEXT);
        CREATE TABLE gpkg_contents (
          table_name TEXT NOT NULL PRIMARY KEY,
          data_type TEXT NOT NULL,
          identifier TEXT UNIQUE,
          description TEXT DEFAULT '',
          last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
          min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE,
          srs_id INTEGER,
          CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
        CREATE TABLE gpkg_tile_matrix_set (
          table_name TEXT NOT NULL PRIMARY KEY,
          srs_id INTEGER NOT NULL,
          min_x DOUBLE NOT NULL, min_y DOUBLE NOT NULL, max_x DOUBLE NOT NULL, max_y DOUBLE NOT NULL,
          CONSTRAINT fk_gtms_table_name FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
          CONSTRAINT fk_gtms_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
        CREATE TABLE gpkg_tile_matrix (
          table_name TEXT NOT NULL,
          zoom_level INTEGER NOT NULL,
          matrix_width INTEGER NOT NULL,
          matrix_height INTEGER NOT NULL,
          tile_width INTEGER NOT NULL,
          tile_height INTEGER NOT NULL,
          pixel_x_size DOUBLE NOT NULL,
          pixel_y_size DOUBLE NOT NULL,
          CONSTRAINT pk_ttm PRIMARY KEY (table_name, zoom_level),
          CONSTRAINT fk_tmm_table_name FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name));
        INSERT INTO gpkg_spatial_ref_sys VALUES
          ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
          ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system');
        """

    /// Everything a new pyramid file holds before its tiles, in the open transaction: the core tables, the SRS rows
    /// (EPSG:4326 and `extraSRS`), the tiles table, its `gpkg_contents` row of `dataType`, the matrix set (the whole
    /// WorldCRS84Quad grid, §2.2.6, so that tile indices stay the grid's) and a matrix row for every zoom 0…maxZoom.
    static func createPyramid(
        _ db: Database, table: String, dataType: String, description: String, lastChange: String, bounds: BoundingBox, maxZoom: Int,
        extraSRS: [(name: String, id: Int, definition: String, description: String)] = []
    ) throws {
        try db.execute(sql: core)
        try db.execute(
            sql: """
                INSERT INTO gpkg_spatial_ref_sys VALUES ('WGS 84 geodetic', 4326, 'EPSG', 4326, ?, \
                'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid')
                """,
            arguments: [wgs84Definition]
        )
        for srs in extraSRS {
            try db.execute(sql: "INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, 'EPSG', ?, ?, ?)", arguments: [srs.name, srs.id, srs.id, srs.definition, srs.description])
        }
        try db.execute(sql: tilesTable(quoted(table)))
        try db.execute(
            sql: """
                INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change,
                  min_x, min_y, max_x, max_y, srs_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 4326)
                """,
            arguments: [table, dataType, table, description, lastChange, bounds.minX, bounds.minY, bounds.maxX, bounds.maxY]
        )
        try db.execute(sql: "INSERT INTO gpkg_tile_matrix_set VALUES (?, 4326, -180, -90, 180, 90)", arguments: [table])
        for zoom in 0...maxZoom {
            let pixel = WorldCRS84Quad.resolution(zoom)
            try db.execute(
                sql: "INSERT INTO gpkg_tile_matrix VALUES (?, ?, ?, ?, 256, 256, ?, ?)",
                arguments: [table, zoom, WorldCRS84Quad.matrixWidth(zoom), WorldCRS84Quad.matrixHeight(zoom), pixel, pixel]
            )
        }
    }

    /// A tile pyramid user data table (§2.2.8 Req 54).
    static func tilesTable(_ quotedName: String) -> String {
        """
        CREATE TABLE \(quotedName) (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          zoom_level INTEGER NOT NULL,
          tile_column INTEGER NOT NULL,
          tile_row INTEGER NOT NULL,
          tile_data BLOB NOT NULL,
          UNIQUE (zoom_level, tile_column, tile_row));
        """
    }
}

/// SQL identifier quoting: a name inside double quotes, inner quotes doubled.
func quoted(_ identifier: String) -> String {
    "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
