import Foundation
import MapDepotCore
import GeoPackage
import TileGrid

/// A product's tiles, read-only. Implementations: a `{z}/{x}/{y}` directory, a GeoPackage, an MBTiles file.
public protocol TileSource: Sendable {
    /// The tiles present in one row between two columns (half-open), keyed by column; missing tiles are absent.
    func tiles(zoom: Int, row: Int, columns: Range<Int>) async throws -> [Int: Data]
    /// Per zoom, how many tiles there are and their total size.
    func statistics() async throws -> [ZoomStatistics]
    /// Every tile present at `zoom`.
    func coordinates(zoom: Int) async throws -> [TileCoordinate]
    /// The source's bulk reader, when it can tell its tiles' sizes before reading them: the runner then writes the
    /// package front to back (``ExportRunner`` bulk path, issue #15).
    var bulk: (any BulkTileReading)? { get }
}

extension TileSource {
    public var bulk: (any BulkTileReading)? { nil }
}

/// Opens the source a record names.
public protocol TileSourceOpener: Sendable {
    /// - Throws: ``ServiceError`` `.invalid` when the source is missing or unreadable.
    func open(_ descriptor: TileSourceDescriptor) throws -> any TileSource
}
