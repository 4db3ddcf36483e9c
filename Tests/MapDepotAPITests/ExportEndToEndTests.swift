import ExportCore
import Foundation
import GeoJSON
import Geometry
import HTTPTypes
import HummingbirdTesting
import JSONValues
import Logging
import MapDepotAPI
import MapDepotCore
import NIOCore
import Testing
import TestSupport
import TileGrid

/// The Blue Marble pyramid, two Natural Earth countries (France, a multipolygon with overseas parts, and
/// Fiji, which straddles the antimeridian), exported over HTTP and checked tile by tile.
@Suite struct ExportEndToEndTests {
    @Test func exportsTwoCountriesAndEveryTileMatchesSourceAndPlanner() async throws {
        let server = try await TestServer.make()
        let pyramid = try await Fixtures.blueMarblePyramid()
        let body = try exportBody(countries: [("France", 4), ("Fiji", 3)])
        try await server.run { client in
            try await client.addRecord(server)
            let estimate = try await client.call(.post, "/export-tasks/estimate", token: server.alice, body: body)
            #expect(estimate.status == .ok)
            let created = try await client.call(.post, "/export-tasks", token: server.alice, body: body)
            #expect(created.status == .created, "\(created.message)")
            let idNumber = try #require(created.json.objectValue?["id"]?.numberValue)
            let id = Int(idNumber)
            #expect(created.json.objectValue?["status"] == .string("PENDING"))
            let sent = try JSONValue.parse(Data(body.utf8))
            #expect(created.json.objectValue?["ROI"] == sent.objectValue?["ROI"])

            let task = try await client.waitForTask(id, token: server.alice)
            #expect(task["status"] == .string("COMPLETED"), "\(task["errorReason"] ?? .null)")
            #expect(task["progress"] == .number(100))
            #expect(task["expiredAt"]?.stringValue != nil)
            let artifacts = (task["artifacts"]?.arrayValue ?? []).compactMap { $0.objectValue }
            try #require(artifacts.count == 2)
            #expect(artifacts.map { $0["type"] } == [.string("GPKG"), .string("METADATA")])
            let gpkgName = try #require(artifacts[0]["name"]?.stringValue)
            #expect(gpkgName.hasPrefix("Orthophoto_bluemarble_1_0_4_"))
            #expect(gpkgName.hasSuffix("Z.gpkg"))

            // Download it as the owner; the body is the published file.
            let gpkgURL = try #require(artifacts[0]["url"]?.stringValue)
            let path = try #require(URL(string: gpkgURL)?.path)
            let download = try await client.call(.get, path, token: server.alice)
            #expect(download.status == .ok)
            let bytes = Data(download.body.readableBytesView)
            #expect(download.headers[.contentLength] == "\(bytes.count)")
            #expect(artifacts[0]["size"] == .number(Double(bytes.count)))
            #expect(artifacts[0]["sha256"] == .string(sha256Hex(bytes)))
            #expect(download.headers[.eTag] == "\"\(sha256Hex(bytes))\"")
            let file = try Fixtures.temporaryDirectory("e2e") + "/" + gpkgName
            try bytes.write(to: URL(fileURLWithPath: file))

            // GDAL: valid GeoPackage, opens, and every tile is the source's, exactly the planned set.
            #expect(try await GDAL.validate(file) == "")
            #expect(try await GDAL.info(file).contains("GPKG"))
            let digests = try await GDAL.tileDigests(file, table: String(gpkgName.dropLast(5)))
            var expected: [String: String] = [:]
            for (name, maxZoom) in [("France", 4), ("Fiji", 3)] {
                let region = Region(polygons: try Fixtures.country(name).geometry!.polygons)
                for zoom in 0...maxZoom {
                    for tile in region.coveringTilesBruteForce(zoom: zoom).tiles {
                        let source = try Data(contentsOf: URL(fileURLWithPath: "\(pyramid)/\(zoom)/\(tile.column)/\(tile.row).png"))
                        expected["\(zoom)/\(tile.column)/\(tile.row)"] = sha256Hex(source)
                    }
                }
            }
            #expect(digests.count == expected.count)
            #expect(digests == expected)
            #expect(estimate.json.objectValue?["tiles"] == .number(Double(expected.count)))
            // Fiji reaches both edges of the world.
            #expect(digests.keys.contains { $0.hasPrefix("3/0/") })
            #expect(digests.keys.contains { $0.hasPrefix("3/15/") })

            // Metadata JSON: catalog fields plus what was exported.
            let metadataURL = try #require(artifacts[1]["url"]?.stringValue)
            let metadataPath = try #require(URL(string: metadataURL)?.path)
            let metadata = try await client.call(.get, metadataPath, token: server.alice).json.objectValue ?? [:]
            #expect(metadata["sha256"] == .string(sha256Hex(bytes)))
            #expect(metadata["tileCount"] == .number(Double(expected.count)))
            #expect(metadata["missingTiles"] == .number(0))
            #expect(metadata["maxZoom"] == .number(4))
            #expect(metadata["productId"] == .string("bluemarble"))
            #expect(metadata["footprint"]?.objectValue?["type"] == .string("MultiPolygon"))
            #expect(metadata["productBoundingBox"]?.stringValue?.hasPrefix("-180.0,") == true)

            // Resumable: a range, a conditional request.
            let range = try await client.call(.get, path, token: server.alice, headers: [.range: "bytes=100-199"])
            #expect(range.status == .partialContent)
            #expect(Data(range.body.readableBytesView) == bytes[100..<200])
            #expect(range.headers[.contentRange] == "bytes 100-199/\(bytes.count)")
            let tail = try await client.call(.get, path, token: server.alice, headers: [.range: "bytes=-10"])
            #expect(Data(tail.body.readableBytesView) == bytes.suffix(10))
            let beyond = try await client.call(.get, path, token: server.alice, headers: [.range: "bytes=\(bytes.count)-"])
            #expect(beyond.status == .rangeNotSatisfiable)
            let cached = try await client.call(.get, path, token: server.alice, headers: [.ifNoneMatch: "\"\(sha256Hex(bytes))\""])
            #expect(cached.status == .notModified)
            let head = try await client.call(.head, path, token: server.alice)
            #expect(head.headers[.contentLength] == "\(bytes.count)")

            // Tenancy: another customer sees nothing of it.
            #expect(try await client.call(.get, "/export-tasks/\(id)", token: server.bob).status == .notFound)
            #expect(try await client.call(.get, path, token: server.bob).status == .notFound)
            #expect(try await client.call(.get, path).status == .unauthorized)
            #expect(try await client.call(.get, "/export-tasks", token: server.bob).json == .array([]))
            let mine = try await client.call(.get, "/export-tasks?limit=5", token: server.alice).json.arrayValue ?? []
            #expect(mine.count == 1)
        }
    }

    @Test func aTaskLeftInProgressByAKilledProcessIsRestartedAndCompletes() async throws {
        var server = try await TestServer.make()
        let body = try exportBody(countries: [("Iceland", 4)])
        // First life: accept the task, claim it as a worker would, then "die" (no worker ran it).
        server.config.worker.run = false
        let first = server
        try await first.run { client in
            try await client.addRecord(first)
            #expect(try await client.call(.post, "/export-tasks", token: first.alice, body: body).status == .created)
        }
        let components = try await MapDepotComponents.open(config: server.config, logger: Logger(label: "test"))
        // The node that claimed it is gone: its lease has run out.
        let claimed = try await components.taskStore.claimNextJob(now: Date(), lease: JobLease(owner: "a-dead-node", until: Date()))
        #expect(claimed?.status == .inProgress)
        // A half-written staging file, as a crash would leave.
        let staging = try components.artifacts.stagingPath(for: "exports/1/partial.gpkg")
        _ = FileManager.default.createFile(atPath: staging, contents: Data("half".utf8))

        // Second life: the worker finds it, runs it again, completes it.
        server.config.worker.run = true
        let second = server
        try await second.run { client in
            let task = try await client.waitForTask(1, token: second.alice)
            #expect(task["status"] == .string("COMPLETED"))
            let transitions = try await components.taskStore.transitions(id: 1).map(\.to)
            #expect(transitions == [.pending, .inProgress, .pending, .inProgress, .completed])
        }
    }
}

