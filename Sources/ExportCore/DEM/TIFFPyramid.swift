import Foundation
import Geometry
import MapDepotCore
import Raster
import TileGrid

/// A DEM as a WorldCRS84Quad pyramid of float32 TIFF tiles, `{z}/{x}/{y}.tif` (XYZ or TMS rows; issue #13): its finest
/// zoom, assembled into one grid over the tiles present; a missing tile is nodata.
struct TIFFPyramid {
    let root: String
    let scheme: TileSourceDescriptor.RowScheme

    func grid(noDataValue: Double?) throws -> ElevationGrid {
        let manager = FileManager.default
        let zooms = try manager.contentsOfDirectory(atPath: root).compactMap(Int.init).filter { (0...WorldCRS84Quad.maxZoom).contains($0) }
        guard let zoom = zooms.max() else { throw ServiceError.invalid("source \(root) holds no {z}/{x}/{y}.tif tiles") }
        var tiles: [(column: Int, row: Int, path: String)] = []
        for column in try manager.contentsOfDirectory(atPath: "\(root)/\(zoom)").compactMap(Int.init) {
            for name in try manager.contentsOfDirectory(atPath: "\(root)/\(zoom)/\(column)") where name.hasSuffix(".tif") {
                guard let y = Int(name.dropLast(4)) else { continue }
                let row = scheme == .xyz ? y : WorldCRS84Quad.matrixHeight(zoom) - 1 - y
                tiles.append((column, row, "\(root)/\(zoom)/\(column)/\(name)"))
            }
        }
        guard let minColumn = tiles.map(\.column).min(), let maxColumn = tiles.map(\.column).max(),
            let minRow = tiles.map(\.row).min(), let maxRow = tiles.map(\.row).max()
        else { throw ServiceError.invalid("source \(root)/\(zoom) holds no .tif tiles") }
        let size = WorldCRS84Quad.tileSize
        let width = (maxColumn - minColumn + 1) * size
        let height = (maxRow - minRow + 1) * size
        guard width * height <= 1 << 28 else { throw ServiceError.invalid("source \(root) is too large to export at zoom \(zoom)") }
        var nodata = noDataValue.map(Float.init)
        var values = [Float?](repeating: nil, count: width * height)
        for tile in tiles {
            let cells = try TIFFReader(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: tile.path)))).grid()
            guard cells.width == size, cells.height == size else { throw ServiceError.invalid("\(tile.path) is \(cells.width)×\(cells.height), not \(size)×\(size)") }
            if nodata == nil { nodata = cells.nodata }
            for y in 0..<size {
                for x in 0..<size {
                    values[((tile.row - minRow) * size + y) * width + (tile.column - minColumn) * size + x] = cells[x, y]
                }
            }
        }
        let null = nodata ?? -32768
        let box = WorldCRS84Quad.bounds(zoom: zoom, column: minColumn, row: minRow)
        let resolution = WorldCRS84Quad.resolution(zoom)
        return ElevationGrid(
            width: width, height: height, values: values.map { $0 ?? null }, originX: box.minX, originY: box.maxY, pixelX: resolution, pixelY: resolution,
            nodata: null
        )
    }
}
