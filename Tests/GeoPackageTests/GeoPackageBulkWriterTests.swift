import Foundation
import GRDB
@testable import GeoPackage
import Geometry
import Testing
import TestSupport
import TileGrid

/// The bulk writer's files, judged by SQLite (`integrity_check`, reads, a later insert) and by GDAL.
@Suite struct GeoPackageBulkWriterTests {
    /// Deterministic bytes of `count` (at least 12) that start as a PNG does, which is all GDAL's validator looks at.
    static func bytes(_ count: Int, seed: Int) -> Data {
        var state = UInt64(truncatingIfNeeded: seed) &* 0x9E37_79B9_7F4A_7C15 | 1
        var data = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        data.reserveCapacity(count + 8)
        while data.count < count {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            withUnsafeBytes(of: state) { data.append(contentsOf: $0) }
        }
        return data.prefix(count)
    }

    /// Writes `tiles` with the bulk writer in `chunks` pieces and returns the file's path, or nil when one leaf holds them.
    static func write(_ tiles: [(TileCoordinate, Data)], to path: String, chunks: Int = 3) throws -> String? {
        let options = GeoPackageTileWriter.Options(
            tableName: "bulk", contentsBounds: BoundingBox(minX: -180, minY: -90, maxX: 180, maxY: 90), maxZoom: tiles.map(\.0.zoom).max() ?? 0,
            lastChange: Date(timeIntervalSince1970: 1_700_000_000)
        )
        let template = try GeoPackageBulkWriter.template(options: options, rows: tiles.count, scratch: path + ".template")
        guard let writer = GeoPackageBulkWriter(template: template, coordinates: tiles.map(\.0), sizes: tiles.map(\.1.count)) else { return nil }
        var file = Data(writer.prefix)
        let leaves = writer.layout.leaves.count
        var start = 0
        for chunk in 0..<chunks {
            let end = chunk == chunks - 1 ? leaves : min(leaves, start + leaves / chunks)
            var encoder = GeoPackageLeafEncoder(layout: writer.layout, leaves: start..<end)
            for index in encoder.tiles {
                try tiles[index].1.withUnsafeBytes { try encoder.add($0) }
            }
            #expect(file.count == writer.layout.offset(ofLeaf: start))
            let pages = try encoder.finish()
            withExtendedLifetime(pages) { file.append(contentsOf: UnsafeRawBufferPointer(pages.bytes)) }
            start = end
        }
        file.append(contentsOf: writer.tail())
        #expect(file.count == writer.layout.totalPages * 65_536)
        try file.write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Tiles of every awkward size: tiny, a few KB, just under and over the largest local payload, several
    /// overflow pages; coordinates of zooms 0–9 in (zoom, row, column) order, as an export writes them.
    static func awkwardTiles(count: Int) -> [(TileCoordinate, Data)] {
        let sizes = [12, 17, 300, 8_000, 65_480, 65_486, 65_487, 65_501, 65_530, 70_000, 131_068, 131_069, 200_000, 3_000]
        var result: [(TileCoordinate, Data)] = []
        var seed = 0
        zooms: for zoom in 0...9 {
            for row in 0..<WorldCRS84Quad.matrixHeight(zoom) {
                for column in 0..<WorldCRS84Quad.matrixWidth(zoom) where (row * 31 + column * 7) % 3 != 0 || zoom < 3 {
                    let size = seed % 5 == 0 ? sizes[(seed / 5) % sizes.count] : 100 + (seed * 37) % 2_000
                    result.append((TileCoordinate(zoom: zoom, column: column, row: row), bytes(size, seed: seed)))
                    seed += 1
                    if result.count == count { break zooms }
                }
            }
        }
        return result
    }

    @Test(arguments: [40, 3_000, 12_000])
    func sqliteAndGDALReadEveryTileBack(count: Int) async throws {
        let directory = try Fixtures.temporaryDirectory("bulk-gpkg")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let tiles = Self.awkwardTiles(count: count)
        let path = try #require(try await OwnThread.run { try Self.write(tiles, to: directory + "/bulk.gpkg") })
        let queue = try DatabaseQueue(path: path)
        try await queue.read { db in
            #expect(try String.fetchAll(db, sql: "PRAGMA integrity_check") == ["ok"])
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM bulk") == tiles.count)
            #expect(try Int.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'bulk'") == tiles.count)
            for (rowid, (tile, data)) in tiles.enumerated() {
                let row = try #require(
                    try Row.fetchOne(
                        db, sql: "SELECT id, tile_data FROM bulk WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                        arguments: [tile.zoom, tile.column, tile.row]
                    )
                )
                #expect(row[0] as Int == rowid + 1)
                #expect(row[1] as Data? ?? Data() == data, "\(tile), \(data.count) bytes")
            }
        }
        // SQLite goes on from there: a new row takes the next id, the unique index refuses a copy, the file stays whole.
        try await queue.write { db in
            try db.execute(sql: "INSERT INTO bulk (zoom_level, tile_column, tile_row, tile_data) VALUES (9, 1023, 511, x'00')")
            #expect(db.lastInsertedRowID == Int64(tiles.count + 1))
            #expect(throws: (any Error).self) {
                try db.execute(sql: "INSERT INTO bulk (zoom_level, tile_column, tile_row, tile_data) VALUES (?, ?, ?, x'00')", arguments: [tiles[7].0.zoom, tiles[7].0.column, tiles[7].0.row])
            }
            try db.execute(sql: "DELETE FROM bulk WHERE id % 3 = 0")
        }
        #expect(try await queue.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") } == ["ok"])
        try queue.close()
        let fresh = try #require(try await OwnThread.run { try Self.write(tiles, to: directory + "/again.gpkg") })
        let complaints = try await GDAL.validate(fresh)
        #expect(complaints == "", "\(complaints)")
        let digests = try await GDAL.tileDigests(fresh, table: "bulk")
        #expect(digests.count == tiles.count)
        #expect(tiles.allSatisfy { digests["\($0.0.zoom)/\($0.0.column)/\($0.0.row)"] == sha256Hex($0.1) })
        // Identical input, identical bytes.
        let again = try #require(try await OwnThread.run { try Self.write(tiles, to: directory + "/third.gpkg", chunks: 1) })
        #expect(try Data(contentsOf: URL(fileURLWithPath: fresh)) == Data(contentsOf: URL(fileURLWithPath: again)))
    }

    @Test func tilesThatFitOnOneLeafAreLeftToSQLite() throws {
        let directory = try Fixtures.temporaryDirectory("bulk-gpkg")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try Self.write(Self.awkwardTiles(count: 3).map { ($0.0, Data(count: 10)) }, to: directory + "/small.gpkg") == nil)
    }

    /// The level builders on their own, with cells big enough that a few fill a page: every page within the page,
    /// no interior page without a cell, no leaf without an entry, and nothing lost or repeated.
    @Test(arguments: [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 50, 101])
    func levelsFillPagesAndLoseNothing(count: Int) {
        let sizes = (0..<count).map { 9_000 + ($0 * 977) % 7_000 }
        let groups = GeoPackageBulkLayout.groups(sizes, header: 12)
        #expect(groups.first?.lowerBound == 0 && groups.last?.upperBound == count)
        for (group, next) in zip(groups, groups.dropFirst()) { #expect(group.upperBound == next.lowerBound) }
        for group in groups {
            #expect(group.count >= 2)
            #expect(12 + sizes[group.dropLast()].reduce(0, +) <= 65_536)
        }
        let pages = GeoPackageBulkLayout.btreeSplit(sizes, header: 8)
        #expect(pages.first?.lowerBound == 0 && pages.last?.upperBound == count)
        for (page, next) in zip(pages, pages.dropFirst()) { #expect(page.upperBound + 1 == next.lowerBound) }
        for page in pages {
            #expect(!page.isEmpty)
            #expect(8 + sizes[page].reduce(0, +) <= 65_536)
        }
    }

    /// Around 1 GiB, every page but the lock-byte one (16,385 at 64 KiB pages) is used, once: leaves, overflow pages
    /// (tiles of several pages straddle it), interior and index pages. Laid out as if the template ended just before.
    @Test(arguments: [16_370, 16_383, 16_384])
    func theLockBytePageIsLeftOut(templatePages: Int) {
        let tiles = Self.awkwardTiles(count: 400)
        let layout = GeoPackageBulkLayout(
            coordinates: tiles.map(\.0), sizes: tiles.map { $0.1.count + 150_000 }, templatePages: templatePages, tableRoot: 3, indexRoot: 4
        )
        var used = Set(1...templatePages)
        for leaf in layout.leaves {
            for page in leaf.page..<(leaf.page + leaf.pages) where page != 16_385 {
                #expect(used.insert(page).inserted, "page \(page)")
            }
            if leaf.page < 16_385 && leaf.page + leaf.pages > 16_385 { #expect(leaf.pages >= 2) }
        }
        for page in layout.tableInterior.map(\.page) + layout.indexPages.map(\.page) where page != 3 && page != 4 {
            #expect(used.insert(page).inserted, "page \(page)")
        }
        #expect(!used.contains(16_385))
        let unused = Set(1...layout.totalPages).subtracting(used).sorted()
        #expect(unused == [16_385] && used.count == layout.totalPages - 1, "unused: \(unused.prefix(10))")
    }
}
