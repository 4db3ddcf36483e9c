import Foundation
import GRDB
import GRDBSQLite
import Raster

/// Reads a GeoPackage 2D gridded coverage (OGC 17-066r1), as GDAL writes it or as MapDepot does, into one grid: the
/// finest zoom that holds tiles, float32 TIFF or 16-bit PNG tiles, the coverage's and each tile's scale and offset
/// applied, `data_null` cells null; cropped to `gpkg_contents`' bounds (DEM sources, issue #13). Any tile matrix set
/// works (GDAL's own grid or WorldCRS84Quad), as long as its cells are square degrees north-up.
public struct GriddedCoverageReader {
    let path: String
    let table: String?

    public init(path: String, table: String? = nil) {
        self.path = path
        self.table = table
    }

    public func grid() throws -> ElevationGrid {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? queue.close() }
        return try queue.read { db in
            let name: String
            if let table {
                name = table
            } else {
                guard let first = try String.fetchOne(db, sql: "SELECT table_name FROM gpkg_contents WHERE data_type = '2d-gridded-coverage' ORDER BY table_name")
                else { throw GeoPackageError("\(path) holds no 2D gridded coverage") }
                name = first
            }
            guard let coverage = try Row.fetchOne(
                db, sql: "SELECT datatype, scale, \"offset\", data_null FROM gpkg_2d_gridded_coverage_ancillary WHERE tile_matrix_set_name = ?", arguments: [name]
            ) else { throw GeoPackageError("\(name) has no gpkg_2d_gridded_coverage_ancillary row") }
            let isFloat = (coverage["datatype"] as String?) == "float"
            let scale: Double = coverage["scale"] ?? 1
            let offset: Double = coverage["offset"] ?? 0
            let dataNull: Double? = coverage["data_null"]
            guard let set = try Row.fetchOne(db, sql: "SELECT min_x, max_y FROM gpkg_tile_matrix_set WHERE table_name = ?", arguments: [name]),
                let zoom = try Int.fetchOne(db, sql: "SELECT max(zoom_level) FROM \(quoted(name))"),
                let matrix = try Row.fetchOne(
                    db, sql: "SELECT matrix_width, matrix_height, tile_width, tile_height, pixel_x_size, pixel_y_size FROM gpkg_tile_matrix WHERE table_name = ? AND zoom_level = ?",
                    arguments: [name, zoom]
                ),
                let contents = try Row.fetchOne(db, sql: "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?", arguments: [name])
            else { throw GeoPackageError("\(name) has no tiles or no tile matrix") }
            let tileWidth: Int = matrix["tile_width"], tileHeight: Int = matrix["tile_height"]
            let pixelX: Double = matrix["pixel_x_size"], pixelY: Double = matrix["pixel_y_size"]
            let minX: Double = set["min_x"], maxY: Double = set["max_y"]
            // The contents' box in the matrix's cells.
            let contentsMinX: Double = contents["min_x"] ?? minX, contentsMaxY: Double = contents["max_y"] ?? maxY
            let contentsMaxX: Double = contents["max_x"] ?? minX, contentsMinY: Double = contents["min_y"] ?? maxY
            let x0 = max(0, Int(((contentsMinX - minX) / pixelX + 1e-6).rounded(.down)))
            let y0 = max(0, Int(((maxY - contentsMaxY) / pixelY + 1e-6).rounded(.down)))
            let x1 = min(Int(matrix["matrix_width"] as Int) * tileWidth, Int(((contentsMaxX - minX) / pixelX - 1e-6).rounded(.up)))
            let y1 = min(Int(matrix["matrix_height"] as Int) * tileHeight, Int(((maxY - contentsMinY) / pixelY - 1e-6).rounded(.up)))
            guard x1 > x0, y1 > y0, (x1 - x0) * (y1 - y0) <= 1 << 28 else { throw GeoPackageError("\(name) covers no cells") }
            let width = x1 - x0, height = y1 - y0
            var values = [Float?](repeating: nil, count: width * height)
            let tiles = try Row.fetchCursor(
                db,
                sql: """
                    SELECT t.tile_column, t.tile_row, t.tile_data, a.scale, a."offset" FROM \(quoted(name)) t
                    LEFT JOIN gpkg_2d_gridded_tile_ancillary a ON a.tpudt_name = ? AND a.tpudt_id = t.id WHERE t.zoom_level = ?
                    """,
                arguments: [name, zoom]
            )
            while let row = try tiles.next() {
                let column: Int = row[0], tileRow: Int = row[1]
                let data: Data = row[2]
                let tileScale: Double = row[3] ?? 1, tileOffset: Double = row[4] ?? 0
                let bytes = Array(data)
                let cells: [Float?]
                if bytes.starts(with: [0x89, 0x50]) {
                    let png = try PNG16.decode(bytes)
                    guard png.width == tileWidth, png.height == tileHeight else { throw GeoPackageError("tile \(column),\(tileRow) is \(png.width)×\(png.height)") }
                    cells = png.samples.map { stored in
                        if let dataNull, Double(stored) == dataNull { return nil }
                        return Float((Double(stored) * tileScale + tileOffset) * scale + offset)
                    }
                } else {
                    let tiff = try TIFFReader(bytes: bytes).grid()
                    guard tiff.width == tileWidth, tiff.height == tileHeight else { throw GeoPackageError("tile \(column),\(tileRow) is \(tiff.width)×\(tiff.height)") }
                    cells = tiff.values.map { value in
                        if let dataNull, Double(value) == dataNull || value.isNaN { return nil }
                        return isFloat ? value : Float((Double(value) * tileScale + tileOffset) * scale + offset)
                    }
                }
                for y in 0..<tileHeight {
                    let gy = tileRow * tileHeight + y - y0
                    guard gy >= 0, gy < height else { continue }
                    for x in 0..<tileWidth {
                        let gx = column * tileWidth + x - x0
                        guard gx >= 0, gx < width else { continue }
                        values[gy * width + gx] = cells[y * tileWidth + x]
                    }
                }
            }
            // Nulls become one nodata value no cell holds: -32768 (GDAL's Int16 null) unless a cell is -32768.
            let nodata: Float = isFloat ? Float(dataNull ?? -32768) : (values.contains(-32768) ? -Float.greatestFiniteMagnitude : -32768)
            return ElevationGrid(
                width: width, height: height, values: values.map { $0 ?? nodata }, originX: minX + Double(x0) * pixelX,
                originY: maxY - Double(y0) * pixelY, pixelX: pixelX, pixelY: pixelY, nodata: nodata
            )
        }
    }
}
