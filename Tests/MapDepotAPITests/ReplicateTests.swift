import AsyncHTTPClient
import Foundation
import GeoJSON
import HTTPTypes
import HummingbirdTesting
import JSONValues
import MapDepotAPI
import MapDepotCore
import NIOCore
import ReplicationClient
import ReplicationCore
import ReplicationMirror
import Testing
import TestSupport
import ZIPFoundation

/// `mapdepot replicate` (issue #14) against a real server: random change chains synced into a GeoPackage and a directory
/// must equal the server's fresh snapshot feature for feature; kills mid-download and mid-apply leave the last whole
/// replica; limits and exit codes; another server's layer is refused.
@Suite struct ReplicateTests {
    /// A server whose replica URLs are paths (an empty public URL), which the client resolves against the address it
    /// was given: HummingbirdTesting's live server takes a port of its own choosing.
    static func server() async throws -> TestServer {
        try await TestServer.make { $0.http.publicURL = "" }
    }

    static func base(_ client: some TestClientProtocol) -> String { "http://127.0.0.1:\(client.port!)" }

    /// A random change set over feature ids f0…f39 of a polygon layer: new squares, moved ones, changed properties
    /// (`name` and `n` always, `tags` sometimes, so two keys become columns and one stays in JSON), deletions.
    static func randomChanges(_ random: inout SeededGenerator, alive: inout Set<String>) -> String {
        var upserts: [String] = []
        var deletes: [String] = []
        var touched: Set<String> = []
        for _ in 0..<Int.random(in: 1...12, using: &random) {
            let id = "f\(Int.random(in: 0..<40, using: &random))"
            guard touched.insert(id).inserted else { continue }
            if alive.contains(id), Int.random(in: 0..<4, using: &random) == 0 {
                deletes.append(id)
                alive.remove(id)
                continue
            }
            let x = Double(Int.random(in: -170...170, using: &random)) + 0.25
            let y = Double(Int.random(in: -80...80, using: &random)) - 0.5
            let ring = "[[\(x),\(y)],[\(x + 1),\(y)],[\(x + 1),\(y + 1)],[\(x),\(y + 1)],[\(x),\(y)]]"
            let geometry = Int.random(in: 0..<5, using: &random) == 0
                ? #"{"type":"MultiPolygon","coordinates":[[\#(ring)],[[[\#(x + 2),\#(y)],[\#(x + 3),\#(y)],[\#(x + 3),\#(y + 1)],[\#(x + 2),\#(y)]]]]}"#
                : #"{"type":"Polygon","coordinates":[\#(ring)]}"#
            let tags = Int.random(in: 0..<3, using: &random) == 0 ? #","tags":["a",\#(Int.random(in: 0..<9, using: &random))]"# : ""
            let name = "n\(Int.random(in: 0..<1000, using: &random)) \"q\" é"
            upserts.append(
                #"{"type":"Feature","id":"\#(id)","geometry":\#(geometry),"properties":{"name":\#(CanonicalJSON.text(.string(name))),"n":\#(Int.random(in: 0..<100, using: &random))\#(tags)}}"#
            )
            alive.insert(id)
        }
        return #"{"upserts":{"type":"FeatureCollection","features":[\#(upserts.joined(separator: ","))]},"deletes":[\#(deletes.map { "\"\($0)\"" }.joined(separator: ","))]}"#
    }

    /// The features of the server's fresh snapshot, id → canonical text, read from its zip.
    static func freshSnapshot(_ client: some TestClientProtocol, _ server: TestServer, layer: Int) async throws -> [String: String] {
        let snapshot = try await client.call(.post, "/layers/\(layer)/replicas", token: server.writer, body: #"{"replicaType":"snapshot","geometryType":"polygon"}"#)
        #expect(snapshot.status == .created, "\(snapshot.message)")
        var content = ReplicaContent()
        for file in snapshot.json.objectValue?["files"]?.arrayValue ?? [] {
            let url = try #require(file.objectValue?["url"]?.stringValue)
            let path = try Fixtures.temporaryDirectory("snapshot") + "/s.zip"
            let response = try await client.call(.get, String(url[url.range(of: "/downloads/")!.lowerBound...]), token: server.reader)
            try Data(response.body.readableBytesView).write(to: URL(fileURLWithPath: path))
            try ZipContentReader().read(zipAt: path, into: &content)
        }
        return Dictionary(uniqueKeysWithValues: content.upserts.map { ($0.state.id, $0.state.featureText()) })
    }

    static func engine(_ base: String, token: String, layer: Int, target: any MirrorTarget, staging: String, client: HTTPClient) -> ReplicaSync {
        ReplicaSync(
            layerId: layer, geometryType: .polygon,
            server: HTTPReplicaServer(server: base, token: token, layerId: layer, geometryType: .polygon, client: client),
            target: target, reader: ZipContentReader(), staging: staging, pageSize: 2
        )
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func aMirrorEqualsTheServersFreshSnapshotAfterRandomChains(seed: UInt64) async throws {
        let server = try await Self.server()
        let directory = try Fixtures.temporaryDirectory("mirror")
        let http = HTTPReplicaServer.makeClient()
        defer { _ = http.shutdown() }
        try await server.run { client in
            let base = Self.base(client)
            _ = try await client.call(.post, "/layers", token: server.admin, body: #"{"layerId":5,"layerName":"parcels","geometryTypes":["polygon"]}"#)
            let gpkg = try GeoPackageMirror(path: directory + "/copy.gpkg", table: "parcels")
            let plain = try DirectoryMirror(directory: directory + "/copy")
            let mirrors: [(String, any MirrorTarget)] = [("gpkg", gpkg), ("directory", plain)]
            var random = SeededGenerator(seed: seed)
            var alive: Set<String> = []
            for round in 0..<8 {
                let applied = try await client.call(.post, "/layers/5/changes", token: server.writer, body: Self.randomChanges(&random, alive: &alive))
                #expect(applied.status == .ok, "seed \(seed) round \(round): \(applied.message)")
                // Deltas every round, a snapshot now and then (it closes the delta chain first); syncs in between.
                let type = round == 2 || round == 5 ? "snapshot" : "delta"
                _ = try await client.call(.post, "/layers/5/replicas", token: server.writer, body: #"{"replicaType":"\#(type)","geometryType":"polygon"}"#)
                if round % 3 == 1 {
                    for (name, mirror) in mirrors {
                        let outcome = try await Self.engine(base, token: server.reader, layer: 5, target: mirror, staging: directory + "/\(name).downloads", client: http)
                            .run(SyncLimits())
                        #expect(outcome.exitCode == 0, "seed \(seed) round \(round) \(name): \(outcome)")
                    }
                }
            }
            _ = try await client.call(.post, "/layers/5/replicas", token: server.writer, body: #"{"replicaType":"delta","geometryType":"polygon"}"#)
            let expected = try await Self.freshSnapshot(client, server, layer: 5)
            #expect(expected.count == alive.count)
            for (name, mirror) in mirrors {
                let outcome = try await Self.engine(base, token: server.reader, layer: 5, target: mirror, staging: directory + "/\(name).downloads", client: http)
                    .run(SyncLimits())
                guard case .upToDate(let cursor) = outcome else {
                    Issue.record("seed \(seed) \(name): \(outcome)")
                    continue
                }
                let stored = try await mirror.storedFeatures()
                #expect(stored == expected, "seed \(seed) \(name): the copy differs from the server's snapshot")
                #expect(try await mirror.storedHash().hex == cursor.layerHash, "seed \(seed) \(name)")
            }
            // GDAL reads the copy as a valid features GeoPackage with its R-tree, and finds every feature.
            #expect(try await GDAL.validate(directory + "/copy.gpkg") == "")
            let info = try await Shell.run("ogrinfo", ["-ro", "-so", directory + "/copy.gpkg", "parcels"])
            #expect(info.contains("Feature Count: \(alive.count)"), "\(info)")
            #expect(info.contains("name: String") && info.contains("n: Real") && !info.contains("tags:"), "stable keys are columns: \(info)")
        }
    }
}
