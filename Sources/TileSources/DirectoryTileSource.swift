import ExportCore
import MapDepotCore
import Foundation
import NIOPosix
import GeoPackage
import TileGrid

/// Tiles in `{root}/{z}/{x}/{y}.{png|jpg}` (XYZ: rows from the top; TMS: rows from the bottom).
///
/// File reads are blocking, so each batch runs on NIO's thread pool, never on the concurrency pool.
public struct DirectoryTileSource: TileSource {
    let root: String
    let scheme: TileSourceDescriptor.RowScheme
    let fileExtension: String
    let threadPool: NIOThreadPool

    public init(root: String, scheme: TileSourceDescriptor.RowScheme, format: TileSourceDescriptor.ImageFormat, threadPool: NIOThreadPool = .singleton) {
        self.root = root
        self.scheme = scheme
        self.fileExtension = format.fileExtension
        self.threadPool = threadPool
    }

    /// The file of a tile (rows counted from the top; a TMS pyramid stores them from the bottom).
    func path(zoom: Int, column: Int, row: Int) -> String {
        "\(root)/\(zoom)/\(column)/\(scheme == .tms ? WorldCRS84Quad.matrixHeight(zoom) - 1 - row : row).\(fileExtension)"
    }

    public func tiles(zoom: Int, row: Int, columns: Range<Int>) async throws -> [Int: Data] {
        try await threadPool.runIfActive { [self] in
            var result: [Int: Data] = [:]
            for column in columns {
                if let data = FileManager.default.contents(atPath: path(zoom: zoom, column: column, row: row)) {
                    result[column] = data
                }
            }
            return result
        }
    }

    public func statistics() async throws -> [ZoomStatistics] {
        let root = self.root
        let ext = fileExtension
        return try await threadPool.runIfActive {
            let manager = FileManager.default
            var result: [ZoomStatistics] = []
            for zoomName in (try? manager.contentsOfDirectory(atPath: root)) ?? [] {
                guard let zoom = Int(zoomName), (0...WorldCRS84Quad.maxZoom).contains(zoom) else { continue }
                var tiles = 0
                var bytes = 0
                var pages = 0.0
                for columnName in (try? manager.contentsOfDirectory(atPath: "\(root)/\(zoomName)")) ?? [] where Int(columnName) != nil {
                    let columnPath = "\(root)/\(zoomName)/\(columnName)"
                    for file in (try? manager.contentsOfDirectory(atPath: columnPath)) ?? [] where file.hasSuffix("." + ext) {
                        let size = (try? manager.attributesOfItem(atPath: "\(columnPath)/\(file)")[.size] as? Int) ?? 0
                        tiles += 1
                        bytes += size
                        pages += GeoPackageSizeModel.pages(tileBytes: size)
                    }
                }
                if tiles > 0 { result.append(ZoomStatistics(zoom: zoom, tiles: tiles, bytes: bytes, pages: pages)) }
            }
            return result.sorted { $0.zoom < $1.zoom }
        }
    }

    public func coordinates(zoom: Int) async throws -> [TileCoordinate] {
        let root = self.root
        let ext = fileExtension
        let scheme = self.scheme
        return try await threadPool.runIfActive {
            let manager = FileManager.default
            var result: [TileCoordinate] = []
            let height = WorldCRS84Quad.matrixHeight(zoom)
            for columnName in (try? manager.contentsOfDirectory(atPath: "\(root)/\(zoom)")) ?? [] {
                guard let column = Int(columnName) else { continue }
                for file in (try? manager.contentsOfDirectory(atPath: "\(root)/\(zoom)/\(columnName)")) ?? [] {
                    guard file.hasSuffix("." + ext), let stored = Int(file.dropLast(ext.count + 1)) else { continue }
                    let row = scheme == .tms ? height - 1 - stored : stored
                    guard (0..<height).contains(row), (0..<WorldCRS84Quad.matrixWidth(zoom)).contains(column) else { continue }
                    result.append(TileCoordinate(zoom: zoom, column: column, row: row))
                }
            }
            return result
        }
    }
}
