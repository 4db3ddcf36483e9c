import Foundation
import GRDB

/// The SQL of a features GeoPackage (OGC 12-128r18 §2.1: features tables, `gpkg_geometry_columns`; Annex F.3: the
/// R-tree spatial index extension), for the local copy `mapdepot replicate` keeps (issue #14), read by `ogrinfo` and QGIS.
public enum GeoPackageFeatures {
    /// Makes a new file a GeoPackage: header pragmas, the core tables and the WGS84 row, plus the geometry columns and
    /// extensions tables. Nothing is done to a file that is one already.
    public static func prepare(_ db: Database) throws {
        guard try !db.tableExists("gpkg_contents") else { return }
        try db.execute(sql: "PRAGMA application_id = \(GeoPackageSchema.applicationID)")
        try db.execute(sql: "PRAGMA user_version = \(GeoPackageSchema.userVersion)")
        try db.execute(sql: GeoPackageSchema.core)
        try db.execute(
            sql: """
                INSERT INTO gpkg_spatial_ref_sys VALUES ('WGS 84 geodetic', 4326, 'EPSG', 4326, ?, \
                'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid')
                """,
            arguments: [GeoPackageSchema.wgs84Definition]
        )
        try db.execute(
            sql: """
                CREATE TABLE gpkg_geometry_columns (
                  table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
                  srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
                  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
                  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
                  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
                  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
                CREATE TABLE gpkg_extensions (
                  table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL,
                  CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
                """
        )
    }

    /// A column of a features table beside `fid` and `geom`.
    public struct Column: Sendable, Hashable {
        public var name: String
        /// A GeoPackage data type (§1.1.1.1.3 Table 1): TEXT, DOUBLE, INTEGER, BOOLEAN.
        public var type: String
        public var notNull: Bool
        public var unique: Bool

        public init(name: String, type: String, notNull: Bool = false, unique: Bool = false) {
            self.name = name
            self.type = type
            self.notNull = notNull
            self.unique = unique
        }
    }

    /// Creates a features table `fid INTEGER PRIMARY KEY AUTOINCREMENT, geom <type>, columns…` in WGS84 (2D), registered
    /// in `gpkg_contents` and `gpkg_geometry_columns`, with its R-tree and the extension's six triggers (Annex F.3).
    /// - Parameter geometryTypeName: `GEOMETRY`, `POINT`, `MULTIPOLYGON`… (Table 30).
    public static func createTable(_ db: Database, table: String, geometryTypeName: String, columns: [Column], description: String) throws {
        let definitions = ["fid INTEGER PRIMARY KEY AUTOINCREMENT", "geom \(geometryTypeName)"]
            + columns.map { "\(quoted($0.name)) \($0.type)\($0.notNull ? " NOT NULL" : "")\($0.unique ? " UNIQUE" : "")" }
        try db.execute(sql: "CREATE TABLE \(quoted(table)) (\(definitions.joined(separator: ", ")))")
        try db.execute(
            sql: "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES (?, 'features', ?, ?, 4326)",
            arguments: [table, table, description]
        )
        try db.execute(sql: "INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, 4326, 0, 0)", arguments: [table, geometryTypeName])
        try db.execute(
            sql: "INSERT INTO gpkg_extensions VALUES (?, 'geom', 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
            arguments: [table]
        )
        let rtree = quoted("rtree_\(table)_geom")
        try db.execute(sql: "CREATE VIRTUAL TABLE \(rtree) USING rtree(id, minx, maxx, miny, maxy)")
        try createTriggers(db, table: table)
    }

    /// The R-tree triggers of Annex F.3, as GDAL writes them; dropped around a bulk load (``GeoPackageRTree/rebuild(_:table:)``).
    public static func createTriggers(_ db: Database, table: String) throws {
        let t = quoted(table)
        let r = quoted("rtree_\(table)_geom")
        let values = "(NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom))"
        let name = { (suffix: String) in quoted("rtree_\(table)_geom_\(suffix)") }
        try db.execute(
            sql: """
                CREATE TRIGGER \(name("insert")) AFTER INSERT ON \(t) WHEN (new.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
                BEGIN INSERT OR REPLACE INTO \(r) VALUES \(values); END;
                CREATE TRIGGER \(name("update1")) AFTER UPDATE OF geom ON \(t)
                  WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
                BEGIN INSERT OR REPLACE INTO \(r) VALUES \(values); END;
                CREATE TRIGGER \(name("update2")) AFTER UPDATE OF geom ON \(t)
                  WHEN OLD.fid = NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
                BEGIN DELETE FROM \(r) WHERE id = OLD.fid; END;
                CREATE TRIGGER \(name("update3")) AFTER UPDATE ON \(t)
                  WHEN OLD.fid != NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
                BEGIN DELETE FROM \(r) WHERE id = OLD.fid; INSERT OR REPLACE INTO \(r) VALUES \(values); END;
                CREATE TRIGGER \(name("update4")) AFTER UPDATE ON \(t)
                  WHEN OLD.fid != NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
                BEGIN DELETE FROM \(r) WHERE id IN (OLD.fid, NEW.fid); END;
                CREATE TRIGGER \(name("delete")) AFTER DELETE ON \(t) WHEN old.geom NOT NULL
                BEGIN DELETE FROM \(r) WHERE id = OLD.fid; END;
                """
        )
    }

    public static func dropTriggers(_ db: Database, table: String) throws {
        for suffix in ["insert", "update1", "update2", "update3", "update4", "delete"] {
            try db.execute(sql: "DROP TRIGGER IF EXISTS \(quoted("rtree_\(table)_geom_\(suffix)"))")
        }
    }

    /// Sets the table's `gpkg_contents` extent from its R-tree (§1.1.3.1.1: informative bounds) and `last_change`.
    public static func updateContents(_ db: Database, table: String, lastChange: Date) throws {
        let r = quoted("rtree_\(table)_geom")
        try db.execute(
            sql: """
                UPDATE gpkg_contents SET last_change = ?, min_x = (SELECT MIN(minx) FROM \(r)), max_x = (SELECT MAX(maxx) FROM \(r)),
                  min_y = (SELECT MIN(miny) FROM \(r)), max_y = (SELECT MAX(maxy) FROM \(r)) WHERE table_name = ?
                """,
            arguments: [GeoPackageTileWriter.timestamp(lastChange), table]
        )
    }

    /// Registers an `attributes` table (§2.4: non-spatial data) so that readers list it instead of warning about it.
    public static func registerAttributes(_ db: Database, table: String, description: String) throws {
        try db.execute(
            sql: "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description) VALUES (?, 'attributes', ?, ?)",
            arguments: [table, table, description]
        )
    }

    /// The SQL functions the R-tree triggers call (GeoPackage Annex F.3 lists them as the extension's requirement), on
    /// every connection that writes a features table.
    public static func addFunctions(_ db: Database) {
        @Sendable func envelope(_ values: [DatabaseValue]) -> (minX: Double, maxX: Double, minY: Double, maxY: Double)? {
            guard let data = Data.fromDatabaseValue(values[0]) else { return nil }
            return GeoPackageGeometry.blobEnvelope([UInt8](data))
        }
        db.add(function: DatabaseFunction("ST_MinX", argumentCount: 1, pure: true) { envelope($0)?.minX })
        db.add(function: DatabaseFunction("ST_MaxX", argumentCount: 1, pure: true) { envelope($0)?.maxX })
        db.add(function: DatabaseFunction("ST_MinY", argumentCount: 1, pure: true) { envelope($0)?.minY })
        db.add(function: DatabaseFunction("ST_MaxY", argumentCount: 1, pure: true) { envelope($0)?.maxY })
        db.add(
            function: DatabaseFunction("ST_IsEmpty", argumentCount: 1, pure: true) { values in
                guard let data = Data.fromDatabaseValue(values[0]) else { return nil as Bool? }
                return GeoPackageGeometry.isEmpty([UInt8](data))
            }
        )
    }
}
