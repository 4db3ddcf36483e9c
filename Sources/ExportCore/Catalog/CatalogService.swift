import Foundation
import MapDepotCore
import GeoJSON
import Geometry
import TileGrid

/// Adds, lists and removes catalog records. Used by the HTTP API and the CLI alike.
public struct CatalogService: Sendable {
    private let store: any CatalogStore
    let sources: any TileSourceOpener
    let clock: any WallClock
    let openSources = OpenSources()

    public init(store: any CatalogStore, sources: any TileSourceOpener, clock: any WallClock) {
        self.store = store
        self.sources = sources
        self.clock = clock
    }

    /// Checks the draft against its source and stores the record.
    ///
    /// The source must open and hold tiles. A missing `maxResolutionDeg` becomes the finest zoom present; a
    /// missing `footprint` becomes the area of the tiles present at that zoom (rows of adjacent tiles merged
    /// into rectangles).
    public func add(_ draft: CatalogRecordDraft) async throws -> CatalogRecord {
        let record = try await describe(draft)
        try await store.insert(record)
        return record
    }

    /// The record a draft makes, measured against its source, without storing it (the CLI exports from a
    /// source directly with this).
    public func describe(_ draft: CatalogRecordDraft) async throws -> CatalogRecord {
        if case .tileset(let path) = draft.source { return try await describeTileset(draft, path: path) }
        if case .geotiff = draft.source { return try await describeDEM(draft) }
        if draft.domain == .dem { return try await describeDEM(draft) }
        if case .directory(_, _, .tiff) = draft.source {
            throw ServiceError.invalid("a directory of TIFF tiles is a DEM's pyramid: the record's domain must be \"DEM\"")
        }
        guard draft.domain != .threeD else {
            throw ServiceError.invalid("a 3D record's source is a 3D Tiles tileset (source.type \"3dtiles\"), found a tile source")
        }
        let source = try sources.open(draft.source)
        let statistics = try await source.statistics().filter { $0.tiles > 0 }.sorted { $0.zoom < $1.zoom }
        guard let finest = statistics.last else {
            throw ServiceError.invalid("source \(draft.source.path) holds no tiles")
        }
        let maxResolutionDeg = draft.maxResolutionDeg ?? WorldCRS84Quad.resolution(finest.zoom)
        let footprint: GeoJSONGeometry
        if let given = draft.footprint {
            footprint = given
        } else {
            footprint = Self.footprint(of: try await source.coordinates(zoom: finest.zoom), zoom: finest.zoom)
        }
        do {
            _ = try Region.convexPieces(of: footprint.polygons)
        } catch {
            throw ServiceError.invalid("footprint: \(error)")
        }
        let format: TileFormat =
            draft.tileOutputFormat
            ?? {
                if case .directory(_, _, .jpeg) = draft.source { return .jpeg }
                return .png
            }()
        let record = CatalogRecord(
            id: draft.id ?? UUID(),
            productId: draft.productId,
            productName: draft.productName,
            productVersion: draft.productVersion,
            productType: draft.productType,
            domain: draft.domain,
            footprint: footprint,
            maxResolutionDeg: maxResolutionDeg,
            maxResolutionMeter: draft.maxResolutionMeter
                ?? Self.meters(zoom: WorldCRS84Quad.zoom(forResolution: maxResolutionDeg)),
            tileOutputFormat: format,
            transparency: draft.transparency ?? (format == .png ? .transparent : .opaque),
            description: draft.description,
            source: draft.source,
            statistics: statistics,
            createdAt: clock.now()
        )
        return record
    }

    public func record(id: UUID) async throws -> CatalogRecord {
        guard let record = try await store.record(id: id) else {
            throw ServiceError.notFound("catalog record \(id.uuidString.lowercased()) is not found")
        }
        return record
    }

    public func records() async throws -> [CatalogRecord] {
        try await store.records()
    }

    public func delete(id: UUID) async throws {
        guard try await store.delete(id: id) else {
            throw ServiceError.notFound("catalog record \(id.uuidString.lowercased()) is not found")
        }
        openSources.forget(id)
    }

    /// Meters per pixel at the equator for a WorldCRS84Quad zoom (the portal's table, export-anchors §4.1).
    static func meters(zoom: Int) -> Double {
        (WorldCRS84Quad.resolution(zoom) * 111_319.490_793_273_58 * 100).rounded() / 100
    }

    /// The area of a set of tiles as a MultiPolygon: runs of adjacent tiles per row, then runs with the same
    /// columns on adjacent rows merged into one rectangle.
    static func footprint(of tiles: [TileCoordinate], zoom: Int) -> GeoJSONGeometry {
        var coverage = ZoomCoverage(zoom: zoom)
        for tile in tiles { coverage.insert(row: tile.row, columns: tile.column..<(tile.column + 1)) }
        var open: [Range<Int>: (top: Int, bottom: Int)] = [:]
        var rectangles: [(columns: Range<Int>, rows: Range<Int>)] = []
        var previousRow: Int?
        for (row, runs) in coverage.sortedRows {
            let runSet = Set(runs)
            for (run, span) in open where !(runSet.contains(run) && previousRow == row - 1) {
                rectangles.append((run, span.top..<(span.bottom + 1)))
                open[run] = nil
            }
            for run in runs {
                if let span = open[run] { open[run] = (span.top, row) } else { open[run] = (row, row) }
            }
            previousRow = row
        }
        for (run, span) in open { rectangles.append((run, span.top..<(span.bottom + 1))) }
        let polygons = rectangles.sorted { ($0.rows.lowerBound, $0.columns.lowerBound) < ($1.rows.lowerBound, $1.columns.lowerBound) }
            .map { rectangle in
                PolygonCoordinates(rectangle: WorldCRS84Quad.bounds(zoom: zoom, columns: rectangle.columns, rows: rectangle.rows))
            }
        return polygons.count == 1 ? .polygon(polygons[0]) : .multiPolygon(polygons)
    }
}
