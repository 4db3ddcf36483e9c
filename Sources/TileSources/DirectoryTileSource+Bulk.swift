import ExportCore
import Foundation
import GeoPackage
import MapDepotCore
import NIOPosix
import TileGrid

/// A directory pyramid's sizes come from `stat`, so its exports take the bulk path too (issue #15): one `stat` per
/// planned tile first, then each file read straight into the buffer its page is built from.
extension DirectoryTileSource: BulkTileReading {
    public var bulk: (any BulkTileReading)? { self }

    public func sizes(of runs: [(zoom: Int, row: Int, columns: Range<Int>)]) async throws -> [[(column: Int, size: Int)]] {
        try await threadPool.runIfActive { [self] in
            runs.map { run in
                var found: [(column: Int, size: Int)] = []
                for column in run.columns {
                    var status = stat()
                    guard stat(path(zoom: run.zoom, column: column, row: run.row), &status) == 0, status.st_mode & S_IFMT == S_IFREG else { continue }
                    found.append((column, Int(status.st_size)))
                }
                return found
            }
        }
    }

    public func leafPages(_ leaves: Range<Int>, of layout: GeoPackageBulkLayout, pool buffers: PagePool) async throws -> AlignedPages {
        try await threadPool.runIfActive { [self] in
            var encoder = GeoPackageLeafEncoder(layout: layout, leaves: leaves, pool: buffers)
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            for index in encoder.tiles {
                let tile = layout.coordinates[index]
                let file = path(zoom: tile.zoom, column: tile.column, row: tile.row)
                // One byte more than the size the layout has: a file that grew since is caught, not cut.
                let expected = layout.sizes[index]
                if buffer.count < expected + 1 { buffer = [UInt8](repeating: 0, count: expected + 1) }
                let count = try buffer.withUnsafeMutableBytes { bytes -> Int in
                    let descriptor = open(file, O_RDONLY | O_CLOEXEC)
                    guard descriptor >= 0 else { throw StorageFailure.posix("tile \(file) went missing while it was copied") }
                    defer { close(descriptor) }
                    var total = 0
                    while total <= expected {
                        let read = Glibc.read(descriptor, bytes.baseAddress! + total, expected + 1 - total)
                        if read < 0 && errno == EINTR { continue }
                        guard read >= 0 else { throw StorageFailure.posix("could not read tile \(file)") }
                        if read == 0 { break }
                        total += read
                    }
                    return total
                }
                try buffer.withUnsafeBytes { try encoder.add(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            }
            return try encoder.finish()
        }
    }
}
