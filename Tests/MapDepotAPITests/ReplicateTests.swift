import AsyncHTTPClient
import Foundation
import GeoJSON
import HTTPTypes
import HummingbirdTesting
import JSONValues
import Logging
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
            // The R-tree, packed on large replicas and kept row by row on small ones, is whole by SQLite's own check.
            let check = try await Shell.run("ogrinfo", ["-ro", directory + "/copy.gpkg", "-sql", "SELECT rtreecheck('rtree_parcels_geom') AS verdict"])
            #expect(check.contains("verdict (String) = ok"), "\(check)")
        }
    }

    /// The real binary's `replicate` (or `replicate status --json`) with a crash point, waited for on its own thread.
    static func replicate(
        _ arguments: [String], base: String, token: String, layer: Int, into: String, crashAt: String? = nil
    ) async throws -> Shell.Result {
        let binary = CrashSafetyTests.binary
        return try await OwnThread.run {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["replicate"] + arguments + [
                "--server", base, "--token", token, "--layer", "\(layer)", "--geometry", "polygon", "--into", into,
            ]
            var environment = ProcessInfo.processInfo.environment
            environment["MAPDEPOT_DEBUG_CRASH_AT"] = crashAt
            process.environment = environment
            return try Shell.wait(for: process)
        }
    }

    static func status(base: String, token: String, layer: Int, into: String) async throws -> [String: JSONValue] {
        let result = try await replicate(["status", "--json", "--verify"], base: base, token: token, layer: layer, into: into)
        #expect(result.status == 0, "\(result.error)")
        return try JSONValue.parse(Data(result.output.utf8)).objectValue ?? [:]
    }

    /// `count` features with a random 600-character property each, so that their zip is megabytes and arrives in many chunks.
    static func bulky(_ count: Int, _ random: inout SeededGenerator, salt: String) -> String {
        let features = (0..<count).map { index in
            let blob = (0..<75).map { _ in String(format: "%08x", UInt32.random(in: 0...UInt32.max, using: &random)) }.joined()
            let x = Double(index % 300) - 150, y = Double(index / 300) - 40
            return #"{"type":"Feature","id":"b\#(index)","geometry":{"type":"Polygon","coordinates":[[[\#(x),\#(y)],[\#(x + 0.5),\#(y)],[\#(x + 0.5),\#(y + 0.5)],[\#(x),\#(y)]]]},"properties":{"blob":"\#(salt)\#(blob)","n":\#(index)}}"#
        }
        return #"{"upserts":{"type":"FeatureCollection","features":[\#(features.joined(separator: ","))]}}"#
    }

    @Test func aKillMidDownloadOrMidApplyLeavesTheLastWholeReplicaAndTheNextRunResumes() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CrashSafetyTests.binary), "build the binary first (scripts/test does)")
        let server = try await Self.server()
        let directory = try Fixtures.temporaryDirectory("mirror-kill")
        let into = directory + "/copy.gpkg"
        try await server.run { client in
            let base = Self.base(client)
            _ = try await client.call(.post, "/layers", token: server.admin, body: #"{"layerId":6,"layerName":"bulky","geometryTypes":["polygon"]}"#)
            var random = SeededGenerator(seed: 6)
            #expect(try await client.call(.post, "/layers/6/changes", token: server.writer, body: Self.bulky(2_000, &random, salt: "a")).status == .ok)
            _ = try await client.call(.post, "/layers/6/replicas", token: server.writer, body: #"{"replicaType":"snapshot","geometryType":"polygon"}"#)
            let first = try await Self.replicate([], base: base, token: server.reader, layer: 6, into: into)
            #expect(first.status == 0, "\(first.error)")
            let before = try await GeoPackageMirror(path: into, table: "layer_6_polygon").storedFeatures()
            #expect(before.count == 2_000)

            #expect(try await client.call(.post, "/layers/6/changes", token: server.writer, body: Self.bulky(2_000, &random, salt: "b")).status == .ok)
            let delta = try await client.call(.post, "/layers/6/replicas", token: server.writer, body: #"{"replicaType":"delta","geometryType":"polygon"}"#)
            let file = try #require(delta.json.objectValue?["files"]?.arrayValue?.first?.objectValue)
            let size = try #require(file["size"]?.numberValue)
            let sha256 = try #require(file["sha256"]?.stringValue)
            #expect(size > 500_000)

            // Killed after its first chunk: part of the file is staged, the copy is untouched.
            let killedDownload = try await Self.replicate([], base: base, token: server.reader, layer: 6, into: into, crashAt: "sync-download:1")
            #expect(killedDownload.status == SIGKILL, "\(killedDownload.error)")
            let part = into + ".downloads/\(sha256).zip.part"
            let staged = try FileManager.default.attributesOfItem(atPath: part)[.size] as? Int ?? 0
            #expect(staged > 0 && Double(staged) < size, "staged \(staged) of \(size) bytes")
            #expect(try await GeoPackageMirror(path: into, table: "layer_6_polygon").storedFeatures() == before)

            // Killed in the middle of applying (the rest of the download resumed with Range first): rolled back.
            let killedApply = try await Self.replicate([], base: base, token: server.reader, layer: 6, into: into, crashAt: "sync-apply:700")
            #expect(killedApply.status == SIGKILL, "\(killedApply.error)")
            #expect(!FileManager.default.fileExists(atPath: part) && FileManager.default.fileExists(atPath: into + ".downloads/\(sha256).zip"))
            let afterKill = try await Self.status(base: base, token: server.reader, layer: 6, into: into)
            #expect(afterKill["localDeltaSequence"] == .number(0) && afterKill["verified"] == .bool(true), "\(afterKill)")
            #expect(try await GeoPackageMirror(path: into, table: "layer_6_polygon").storedFeatures() == before)

            let resumed = try await Self.replicate([], base: base, token: server.reader, layer: 6, into: into)
            #expect(resumed.status == 0 && resumed.output.contains("up to date"), "\(resumed.output) \(resumed.error)")
            #expect(try await GeoPackageMirror(path: into, table: "layer_6_polygon").storedFeatures() == (try await Self.freshSnapshot(client, server, layer: 6)))
            #expect(try await GDAL.validate(into) == "")
        }
    }

    @Test func limitsExitCodesGapsAndAnotherServersLayer() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CrashSafetyTests.binary), "build the binary first (scripts/test does)")
        let server = try await Self.server()
        let other = try await Self.server()
        let directory = try Fixtures.temporaryDirectory("mirror-limits")
        let into = directory + "/copy"
        try await server.run { client in
            let base = Self.base(client)
            _ = try await client.call(.post, "/layers", token: server.admin, body: #"{"layerId":8,"layerName":"limits","geometryTypes":["polygon"]}"#)
            var random = SeededGenerator(seed: 8)
            var alive: Set<String> = []
            var deltaIds: [String] = []
            func round() async throws {
                #expect(try await client.call(.post, "/layers/8/changes", token: server.writer, body: Self.randomChanges(&random, alive: &alive)).status == .ok)
                let delta = try await client.call(.post, "/layers/8/replicas", token: server.writer, body: #"{"replicaType":"delta","geometryType":"polygon"}"#)
                let url = delta.json.objectValue?["files"]?.arrayValue?.first?.objectValue?["url"]?.stringValue ?? ""
                deltaIds.append(url.split(separator: "/").dropLast().last.map(String.init) ?? "")
            }
            for _ in 0..<4 { try await round() }
            func run(_ arguments: [String]) async throws -> Shell.Result {
                try await Self.replicate(arguments, base: base, token: server.reader, layer: 8, into: into)
            }
            func position() async throws -> JSONValue? {
                try await Self.status(base: base, token: server.reader, layer: 8, into: into)["localDeltaSequence"]
            }

            // No snapshot yet: the copy starts empty and takes deltas from the layer's creation.
            #expect(try await run(["--until-sequence", "2"]).status == 0)
            #expect(try await position() == .number(2))
            #expect(try await run(["--once"]).status == 1, "--once with more to apply is partial")
            #expect(try await position() == .number(3))
            #expect(try await run(["--max-bytes", "1"]).status == 0, "at least one replica per run; the last one leaves it up to date")
            #expect(try await position() == .number(4))
            try await round()
            try await round()
            #expect(try await run(["--max-bytes", "1"]).status == 1, "the byte cap stops a run after one replica")
            #expect(try await run([]).status == 0)
            #expect(try await position() == .number(6))

            // A delta that is gone (deleted through the registry) leaves a gap: the copy needs a new snapshot.
            try await round()
            try await round()
            #expect(try await client.call(.delete, "/replica/\(deltaIds[6])", token: server.admin).status == .ok)
            _ = try await client.call(.post, "/layers/8/replicas", token: server.writer, body: #"{"replicaType":"snapshot","geometryType":"polygon"}"#)
            let refused = try await run(["--no-resnapshot"])
            #expect(refused.status == 3 && refused.output.contains("cursor too old"), "\(refused.output) \(refused.error)")
            #expect(try await position() == .number(6), "the copy is left where it was")
            let resnapshot = try await run([])
            #expect(resnapshot.status == 0 && resnapshot.error.contains("taking a new snapshot"), "\(resnapshot.output) \(resnapshot.error)")
            let stored = try await DirectoryMirror(directory: into).storedFeatures()
            #expect(stored == (try await Self.freshSnapshot(client, server, layer: 8)))

            // The same layer id on another server is another source: refused, the copy unchanged.
            var elsewhere: Set<String> = []
            let otherChanges = Self.randomChanges(&random, alive: &elsewhere)
            try await other.run { otherClient in
                _ = try await otherClient.call(.post, "/layers", token: other.admin, body: #"{"layerId":8,"layerName":"limits","geometryTypes":["polygon"]}"#)
                #expect(try await otherClient.call(.post, "/layers/8/changes", token: other.writer, body: otherChanges).status == .ok)
                _ = try await otherClient.call(.post, "/layers/8/replicas", token: other.writer, body: #"{"replicaType":"delta","geometryType":"polygon"}"#)
                let foreign = try await Self.replicate([], base: Self.base(otherClient), token: other.reader, layer: 8, into: into)
                #expect(foreign.status == 2 && foreign.error.contains("another server"), "\(foreign.output) \(foreign.error)")
            }
            #expect(try await DirectoryMirror(directory: into).storedFeatures() == stored)
        }
    }

    @Test func aCursorOlderThanRetentionAnswers410AndTheClientTakesTheNewSnapshot() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CrashSafetyTests.binary), "build the binary first (scripts/test does)")
        // A window of about a millisecond: everything but the newest snapshot and what follows it is old.
        let server = try await TestServer.make {
            $0.http.publicURL = ""
            $0.replication.retentionDays = 1e-8
        }
        let directory = try Fixtures.temporaryDirectory("mirror-retention")
        let into = directory + "/copy.gpkg"
        try await server.run { client in
            let base = Self.base(client)
            _ = try await client.call(.post, "/layers", token: server.admin, body: #"{"layerId":9,"layerName":"kept","geometryTypes":["polygon"]}"#)
            var random = SeededGenerator(seed: 9)
            var alive: Set<String> = []
            func round(_ type: String) async throws {
                #expect(try await client.call(.post, "/layers/9/changes", token: server.writer, body: Self.randomChanges(&random, alive: &alive)).status == .ok)
                _ = try await client.call(.post, "/layers/9/replicas", token: server.writer, body: #"{"replicaType":"\#(type)","geometryType":"polygon"}"#)
            }
            try await round("delta")
            try await round("delta")
            #expect(try await Self.replicate([], base: base, token: server.reader, layer: 9, into: into).status == 0)
            for type in ["delta", "snapshot", "delta", "delta", "snapshot", "delta"] { try await round(type) }
            try await Task.sleep(for: .milliseconds(20))
            let components = try await MapDepotComponents.open(config: server.config, logger: Logger(label: "test"))
            let report = try await components.retention.prune()
            components.close()
            #expect(report.replicas > 0 && report.versions > 0, "\(report)")

            let gone = try await client.call(.get, "/replica?layer_id=9&geometry_type=polygon&replica_type=delta&after_sequence=2", token: server.reader)
            #expect(gone.status == .gone && gone.message.contains("no longer kept"), "\(gone.status) \(gone.message)")
            #expect(gone.json.objectValue?["latestSnapshot"]?.objectValue?["sequenceNumber"] == .number(2))
            let window = try await client.call(.post, "/layers/9/deltas", token: server.reader, body: #"{"geometryType":"polygon","from":0}"#)
            #expect(window.status == .gone && window.json.objectValue?["latestSnapshot"]?.objectValue != nil, "\(window.message)")
            let plain = try await client.call(.get, "/replica?layer_id=9&geometry_type=polygon&replica_type=delta", token: server.reader)
            #expect(plain.status == .ok && (plain.json.arrayValue?.count ?? 0) >= 1, "the contract's timestamp listing shows what is kept")

            let refused = try await Self.replicate(["--no-resnapshot"], base: base, token: server.reader, layer: 9, into: into)
            #expect(refused.status == 3, "\(refused.output) \(refused.error)")
            let resumed = try await Self.replicate([], base: base, token: server.reader, layer: 9, into: into)
            #expect(resumed.status == 0 && resumed.error.contains("taking a new snapshot"), "\(resumed.output) \(resumed.error)")
            #expect(try await GeoPackageMirror(path: into, table: "layer_9_polygon").storedFeatures() == (try await Self.freshSnapshot(client, server, layer: 9)))
        }
    }

    @Test func followAppliesEachDeltaAsTheServerAnnouncesIt() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CrashSafetyTests.binary), "build the binary first (scripts/test does)")
        let server = try await Self.server()
        let directory = try Fixtures.temporaryDirectory("mirror-follow")
        let into = directory + "/copy.gpkg"
        try await server.run { client in
            let base = Self.base(client)
            _ = try await client.call(.post, "/layers", token: server.admin, body: #"{"layerId":10,"layerName":"followed","geometryTypes":["polygon"]}"#)
            var random = SeededGenerator(seed: 10)
            var alive: Set<String> = []
            func round() async throws {
                #expect(try await client.call(.post, "/layers/10/changes", token: server.writer, body: Self.randomChanges(&random, alive: &alive)).status == .ok)
                _ = try await client.call(.post, "/layers/10/replicas", token: server.writer, body: #"{"replicaType":"delta","geometryType":"polygon"}"#)
            }
            try await round()
            // Polling once a minute: only the event stream can bring the next deltas in time.
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CrashSafetyTests.binary)
            process.arguments = [
                "replicate", "--follow", "--interval", "60", "--server", base, "--token", server.reader, "--layer", "10", "--geometry", "polygon",
                "--into", into,
            ]
            let log = directory + "/follow.log"
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle(forWritingAtPath: log)
            try process.run()
            defer { process.terminate() }
            func reached(_ delta: Int) async throws -> Bool {
                for _ in 0..<200 {
                    // Read while the client writes: a busy or half-made file is "not yet".
                    if FileManager.default.fileExists(atPath: into),
                        (try? await GeoPackageMirror(path: into, table: "layer_10_polygon").cursor()?.deltaSequence) == delta
                    {
                        return true
                    }
                    try await Task.sleep(for: .milliseconds(50))
                }
                return false
            }
            #expect(try await reached(1))
            // However late the stream connects, its connection rings once: nothing published before it is missed.
            for delta in 2...3 {
                try await round()
                #expect(try await reached(delta), "delta \(delta) was not applied within 10 s: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
            }
            #expect(try await GeoPackageMirror(path: into, table: "layer_10_polygon").storedFeatures() == (try await Self.freshSnapshot(client, server, layer: 10)))
        }
    }

    @Test func aReplicaWhoseHashDiffersIsRolledBackInBothTargets() async throws {
        let directory = try Fixtures.temporaryDirectory("mirror-hash")
        let targets: [any MirrorTarget] = [
            try GeoPackageMirror(path: directory + "/copy.gpkg", table: "t"), try DirectoryMirror(directory: directory + "/copy"),
        ]
        let feature = MirrorFeature(id: "a", geometry: .point(Position(1, 2)), properties: ["n": .number(1)])
        let content = ReplicaContent(upserts: [feature])
        var good = MirrorCursor.empty(layerId: 1, geometryType: .point)
        good.changeSequence = 1
        good.layerHash = content.upsertHash.hex
        var bad = good
        bad.layerHash = String(repeating: "0", count: 63) + "1"
        for target in targets {
            await #expect(throws: SyncError.self) { try await target.replace(with: content, cursor: bad) }
            let untouched = (try await target.cursor(), try await target.count())
            #expect(untouched.0 == nil && untouched.1 == 0, "nothing of the bad replica stays")
            try await target.replace(with: content, cursor: good)
            let replaced = (try await target.cursor(), try await target.storedHash().hex)
            #expect(replaced.0 == good && replaced.1 == good.layerHash)
            var next = good
            next.deltaSequence = 1
            next.changeSequence = 2
            next.layerHash = bad.layerHash
            await #expect(throws: SyncError.self) { try await target.apply(ReplicaContent(deletions: ["a"]), cursor: next) }
            let kept = (try await target.cursor(), try await target.count())
            #expect(kept.0 == good && kept.1 == 1, "a delta that breaks the hash is not applied")
        }
    }
}
