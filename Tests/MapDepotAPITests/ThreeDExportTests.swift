import Foundation
import HTTPTypes
import HummingbirdTesting
import JSONValues
import MapDepotAPI
import MapDepotCore
import NIOCore
import Testing
import TestSupport

/// Domain 3D through the API (issue #13): a 3D record from a tileset, an exact estimate, the export of what meets the
/// ROI as a zip that keeps the 3D Tiles rules, with its METADATA, and dedup as for RASTER.
@Suite struct ThreeDExportTests {
    static let recordID = "3d0c5a1e-7b2f-4e9a-8c6d-1f2e3a4b5c6d"

    static func request(west: Double, south: Double, east: Double, north: Double) -> String {
        let ring = "[[\(west),\(south)],[\(east),\(south)],[\(east),\(north)],[\(west),\(north)],[\(west),\(south)]]"
        return #"{"catalogRecordID":"\#(recordID)","domain":"3D","artifactCRS":"4326","webhooks":[],"ROI":{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[\#(ring)]}}]}}"#
    }

    @Test func aRegionOfATilesetIsExportedAsAValidTilesetZip() async throws {
        let tileset = try TilesetFixtures.handMade()
        let server = try await TestServer.make()
        try await server.run { client in
            let record = #"{"id":"\#(Self.recordID)","productId":"fixture3d","productName":"Hand-made 3D","productType":"3DPhotoRealistic","domain":"3D","source":{"type":"3dtiles","path":"\#(tileset)/tileset.json"}}"#
            let added = try await client.call(.post, "/catalog/records", token: server.admin, body: record)
            #expect(added.status == .created, "\(added.message)")
            let footprint = added.json.objectValue?["footprint"]?.objectValue?["coordinates"]?.arrayValue?.first?.arrayValue ?? []
            #expect(footprint.count == 5, "the root region as the footprint")
            // A 3D record needs a tileset; a tileset needs domain 3D.
            let wrong = try await client.call(.post, "/catalog/records", token: server.admin, body: record.replacingOccurrences(of: #""domain":"3D""#, with: #""domain":"RASTER""#).replacingOccurrences(of: Self.recordID, with: UUID().uuidString))
            #expect(wrong.status == .badRequest)

            let corner = Self.request(west: 10.05, south: 40.05, east: 10.15, north: 40.15)
            let estimate = try await client.call(.post, "/export-tasks/estimate", token: server.alice, body: corner)
            let kept = ["root.cmpt", "west-a.b3dm", "external/near.b3dm"]
            #expect(estimate.json.objectValue?["tiles"] == .number(6))
            #expect(estimate.json.objectValue?["estimatedSize"] == .number(Double(kept.map { "content of \($0)".utf8.count }.reduce(0, +))))

            let created = try await client.call(.post, "/export-tasks", token: server.alice, body: corner)
            #expect(created.status == .created, "\(created.message)")
            let id = Int(try #require(created.json.objectValue?["id"]?.numberValue))
            let task = try await client.waitForTask(id, token: server.alice)
            #expect(task["status"] == .string("COMPLETED"), "\(task["errorReason"] ?? .null)")
            let artifacts = task["artifacts"]?.arrayValue?.compactMap(\.objectValue) ?? []
            #expect(artifacts.compactMap { $0["type"]?.stringValue } == ["3D_MODEL", "METADATA"])

            // The zip holds the subset: the three content files, both tilesets, and nothing else; the rules hold.
            let url = try #require(artifacts.first?["url"]?.stringValue.flatMap(URL.init(string:)))
            let zip = try await client.call(.get, url.path + "?" + (url.query ?? ""))
            #expect(zip.status == .ok)
            let directory = try Fixtures.temporaryDirectory("3d-export")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try Data(zip.body.readableBytesView).write(to: URL(fileURLWithPath: directory + "/export.zip"))
            let unzipped = try await Shell.execute("/usr/bin/python3", ["-m", "zipfile", "-e", directory + "/export.zip", directory + "/out"])
            #expect(unzipped.status == 0, "\(unzipped.error)")
            let files = (FileManager.default.enumerator(atPath: directory + "/out")?.allObjects as? [String] ?? [])
                .filter { !$0.hasSuffix("external") }.sorted()
            #expect(files == ["external/near.b3dm", "external/tileset.json", "root.cmpt", "tileset.json", "west-a.b3dm"])
            #expect(TilesetRules.violations(directory: directory + "/out") == [])
            for name in kept {
                #expect(FileManager.default.contentsEqual(atPath: tileset + "/" + name, andPath: directory + "/out/" + name), "\(name) byte for byte")
            }
            let metadataURL = try #require(artifacts.last?["url"]?.stringValue.flatMap(URL.init(string:)))
            let metadata = try await client.call(.get, metadataURL.path + "?" + (metadataURL.query ?? "")).json.objectValue ?? [:]
            #expect(metadata["type"] == .string("RECORD_3D") && metadata["tileCount"] == .number(6) && metadata["contentFiles"] == .number(3))

            // The same request again is the same task; one outside the tileset is refused.
            let again = try await client.call(.post, "/export-tasks", token: server.alice, body: corner)
            #expect(again.json.objectValue?["id"] == .number(Double(id)))
            let outside = try await client.call(.post, "/export-tasks", token: server.alice, body: Self.request(west: 20, south: 20, east: 21, north: 21))
            #expect(outside.status == .badRequest && outside.message.contains("no intersection"), "\(outside.message)")
        }
    }
}
