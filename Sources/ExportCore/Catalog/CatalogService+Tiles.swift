import Foundation
import MapDepotCore
import Synchronization

extension CatalogService {
    /// One tile of a product as stored (`GET /catalog/records/{id}/tiles/{z}/{x}/{y}`, the web tool's background;
    /// issue #11): WorldCRS84Quad, row 0 at the top; nil outside the data.
    public func tile(recordID: UUID, zoom: Int, column: Int, row: Int) async throws -> Data? {
        guard (0...30).contains(zoom), column >= 0, row >= 0, column < 2 << zoom, row < 1 << zoom else { return nil }
        let record = try await record(id: recordID)
        guard record.statistics.contains(where: { $0.zoom == zoom }) else { return nil }
        let source = try openSources.source(for: record) { try sources.open(record.source) }
        return try await source.tiles(zoom: zoom, row: row, columns: column..<(column + 1))[column]
    }
}

/// Sources opened for tile reads, by record: a map view asks for dozens of tiles a second, and opening a GeoPackage
/// for each costs more than reading the tile.
final class OpenSources: Sendable {
    private let opened = Mutex<[UUID: any TileSource]>([:])

    func source(for record: CatalogRecord, open: () throws -> any TileSource) throws -> any TileSource {
        if let source = opened.withLock({ $0[record.id] }) { return source }
        let source = try open()
        opened.withLock { $0[record.id] = source }
        return source
    }

    /// Forgets a deleted record's source.
    func forget(_ id: UUID) { _ = opened.withLock { $0.removeValue(forKey: id) } }
}
