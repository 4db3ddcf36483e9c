import ExportCore
import MapDepotCore
import Foundation
import GeoPackage
import TileGrid

/// Tiles in a GeoPackage tiles table, or in an MBTiles file (same columns, rows from the bottom).
public struct SQLiteTileSource: TileSource {
    let reader: GeoPackageTileReader

    public init(reader: GeoPackageTileReader) {
        self.reader = reader
    }

    public func tiles(zoom: Int, row: Int, columns: Range<Int>) async throws -> [Int: Data] {
        try await reader.tiles(zoom: zoom, row: row, columns: columns)
    }

    public func statistics() async throws -> [ZoomStatistics] {
        try await reader.inventory().map { ZoomStatistics(zoom: $0.zoom, tiles: $0.count, bytes: $0.bytes, pages: $0.pages) }
    }

    public func coordinates(zoom: Int) async throws -> [TileCoordinate] {
        try await reader.coordinates(zoom: zoom)
    }

    public var bulk: (any BulkTileReading)? { reader }
}

/// Opens the source a record names, refusing missing paths with a clear 400.
public struct LocalTileSourceOpener: TileSourceOpener {
    public init() {}

    public func open(_ descriptor: TileSourceDescriptor) throws -> any TileSource {
        switch descriptor {
        case .directory(let path, let scheme, let format):
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ServiceError.invalid("source directory \(path) does not exist")
            }
            return DirectoryTileSource(root: path, scheme: scheme, format: format)
        case .geopackage(let path, let table):
            do {
                return SQLiteTileSource(reader: try GeoPackageTileReader(path: path, table: table))
            } catch {
                throw ServiceError.invalid("source GeoPackage: \(error)")
            }
        case .mbtiles(let path):
            do {
                return SQLiteTileSource(reader: try GeoPackageTileReader(path: path, table: "tiles", rowsFromBottom: true))
            } catch {
                throw ServiceError.invalid("source MBTiles: \(error)")
            }
        case .tileset(let path):
            throw ServiceError.invalid("source \(path) is a 3D Tiles tileset, which holds no map tiles")
        case .geotiff(let path):
            throw ServiceError.invalid("source \(path) is a GeoTIFF DEM, which holds no map tiles")
        }
    }
}
