import ArgumentParser
import Foundation
import JSONValues
import Logging
import MapDepotAPI
import MapDepotCore
import ReplicationClient
import ReplicationCore
import ReplicationMirror

/// `mapdepot-bench mirror` (issue #14): the sync client's apply rate for one delta of `changes` new features into a local
/// GeoPackage, against `ogr2ogr -append` of the same features as GeoJSON into a GeoPackage; then the time from a change
/// set to its delta reaching a subscribed webhook and an event-stream client, with the real server producing a delta
/// every second. One run, printed as figures and ratios.
struct BenchMirror: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mirror", abstract: "Sync client apply rate vs ogr2ogr -append; push latency.")

    @Option(help: "Features in the delta the client applies.") var changes = 100_000
    @Option(help: "Change sets for the push latency (one every 1.3 s).") var rounds = 20

    func run() async throws {
        let work = NSTemporaryDirectory() + "mapdepot-bench-mirror-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        try await applyRate(work: work)
        try await pushLatency(work: work)
    }

    /// A square of about 100 m with three properties: small features, so that the rate is the client's, not zlib's.
    static func feature(_ index: Int) -> String {
        let x = Double(index % 1_000) * 0.01 - 5, y = Double(index / 1_000) * 0.01 + 40
        return #"{"type":"Feature","id":"f\#(index)","geometry":{"type":"Polygon","coordinates":[[[\#(x),\#(y)],[\#(x + 0.001),\#(y)],[\#(x + 0.001),\#(y + 0.001)],[\#(x),\#(y + 0.001)],[\#(x),\#(y)]]]},"properties":{"name":"parcel \#(index)","rank":\#(index % 7),"owner":"o\#(index % 977)"}}"#
    }

    func applyRate(work: String) async throws {
        var config = AppConfig()
        config.dataDir = work + "/data"
        config.replication.runScheduler = false
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let components = try await MapDepotComponents.open(config: config, logger: logger)
        let service = components.replication
        _ = try await service.createLayer(LayerDraft(layerId: 1, layerName: "parcels", geometryTypes: [.polygon]))
        var texts: [String] = []
        for start in stride(from: 0, to: changes, by: 10_000) {
            let batch = (start..<min(changes, start + 10_000)).map(Self.feature)
            texts += batch
            let body = #"{"upserts":{"type":"FeatureCollection","features":[\#(batch.joined(separator: ","))]}}"#
            _ = try await service.applyChanges(try ChangeRequest(json: try JSONValue.parse(Data(body.utf8))), layerId: 1)
        }
        let delta = try await service.produce(layerId: 1, geometryType: .polygon, replicaType: .delta)
        var zips: [String] = []
        for file in delta.files {
            guard let path = try await components.artifacts.localFile(for: file.key) else { throw ValidationError("the delta's zip is not on disk") }
            zips.append(path)
        }
        components.close()

        // MapDepot: the verified zips read and applied in one transaction, layer hash checked (the client's path after download).
        // The server's writes are flushed first, so that neither side's commit waits for the other's dirty pages.
        sync()
        let start = Date()
        let content = try await Offload.run { [zips] () throws -> ReplicaContent in
            var content = ReplicaContent()
            for zip in zips { try ZipContentReader().read(zipAt: zip, into: &content) }
            return content
        }
        let read = Date().timeIntervalSince(start)
        let mirror = try GeoPackageMirror(path: work + "/copy.gpkg", table: "parcels")
        let cursor = MirrorCursor.empty(layerId: 1, geometryType: .polygon).after(
            try RemoteReplica(json: delta.json(links: nil))
        )
        let applyStart = Date()
        try await mirror.apply(content, cursor: cursor)
        let apply = Date().timeIntervalSince(applyStart)
        let ours = Double(changes) / (read + apply)

        // ogr2ogr -append of the same features, as one GeoJSON FeatureCollection, into a new GeoPackage.
        let geojson = work + "/changes.geojson"
        try (#"{"type":"FeatureCollection","features":["# + texts.joined(separator: ",\n") + "]}").write(toFile: geojson, atomically: true, encoding: .utf8)
        sync()
        let peerStart = Date()
        let (peerRSS, _) = try BenchProcess.run("/usr/bin/env", ["ogr2ogr", "-append", "-f", "GPKG", work + "/peer.gpkg", geojson, "-nln", "parcels"])
        let peer = Double(changes) / Date().timeIntervalSince(peerStart)
        Self.say(
            String(
                format: "mirror apply, %d new polygons: MapDepot %.0f features/s (read+parse %.2f s, apply %.2f s), ogr2ogr -append %.0f features/s: %.2f×; target ≥ 50,000/s and > 1×",
                changes, ours, read, apply, peer, ours / peer
            )
        )
        Self.say("peak RSS: this process \(PeakMemory.kilobytes() / 1024) MB, ogr2ogr \(peerRSS / 1024) MB")
    }

    /// Records, with wall-clock arrival times, every webhook POST on `port` and every `replica` event of the stream:
    /// `kind changeSequence time` lines on standard output, until killed.
    static let listener = """
        import http.server, json, sys, threading, time, urllib.request
        port, base, token = int(sys.argv[1]), sys.argv[2], sys.argv[3]
        lock = threading.Lock()
        def say(kind, sequence):
            with lock:
                print(kind, sequence, "%.6f" % time.time(), flush=True)
        class Hook(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                say("webhook", body["data"]["changeSequence"])
                self.send_response(204); self.end_headers()
            def log_message(self, *args): pass
        def stream():
            request = urllib.request.Request(base + "/layers/1/events", headers={"x-api-key": token})
            with urllib.request.urlopen(request) as response:
                for line in response:
                    if line.startswith(b"data: "):
                        say("sse", json.loads(line[6:])["changeSequence"])
        threading.Thread(target=stream, daemon=True).start()
        http.server.ThreadingHTTPServer(("127.0.0.1", port), Hook).serve_forever()
        """

    func pushLatency(work: String) async throws {
        var config = AppConfig()
        config.dataDir = work + "/push"
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let components = try await MapDepotComponents.open(config: config, logger: logger)
        let token = try await components.tokens.create(subject: "bench", scopes: [.replicationRead, .replicationWrite], lifetime: nil)
        _ = try await components.replication.createLayer(LayerDraft(layerId: 1, layerName: "pushed", geometryTypes: [.point]))
        components.close()

        let hookPort = Int.random(in: 40_000..<60_000)
        let (server, base) = try await BenchHTTP.serve(
            dataDir: config.dataDir,
            settings: [
                "MAPDEPOT_REPLICATION_DELTA_INTERVAL_SECONDS": "1", "MAPDEPOT_REPLICATION_SCHEDULER_CHECK_SECONDS": "0.1",
                "MAPDEPOT_WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "true",
            ]
        )
        defer { server.terminate() }
        func post(_ path: String, _ body: String) throws -> JSONValue {
            let (_, output) = try BenchProcess.run(
                "/usr/bin/env", ["curl", "-sf", "-X", "POST", "-H", "x-api-key: \(token)", "-H", "Content-Type: application/json", "-d", body, base + path]
            )
            return try JSONValue.parse(Data(output.utf8))
        }
        _ = try post("/layers/1/subscriptions", #"{"url":"http://127.0.0.1:\#(hookPort)/hook"}"#)

        let listener = Process()
        listener.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        listener.arguments = ["-c", Self.listener, "\(hookPort)", base, token]
        let output = Pipe()
        listener.standardOutput = output
        listener.standardError = FileHandle.nullDevice
        try listener.run()
        try await Task.sleep(for: .seconds(1))

        var sent: [(sequence: Int, at: Double)] = []
        for round in 0..<rounds {
            let body = #"{"upserts":{"type":"FeatureCollection","features":[{"type":"Feature","id":"p\#(round)","properties":{},"geometry":{"type":"Point","coordinates":[\#(round),1]}}]}}"#
            let result = try post("/layers/1/changes", body)
            sent.append((Int(result.objectValue?["sequenceNumber"]?.numberValue ?? 0), Date().timeIntervalSince1970))
            try await Task.sleep(for: .milliseconds(1_300))
        }
        try await Task.sleep(for: .seconds(3))
        // SIGKILL: the listener inherits this process's ignored SIGTERM (ignored dispositions survive exec).
        kill(listener.processIdentifier, SIGKILL)
        let lines = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
        let arrivals = lines.compactMap { line -> (kind: String, sequence: Int, at: Double)? in
            let parts = line.split(separator: " ")
            guard parts.count == 3, let sequence = Int(parts[1]), let at = Double(parts[2]) else { return nil }
            return (String(parts[0]), sequence, at)
        }
        for kind in ["webhook", "sse"] {
            let latencies = sent.compactMap { change in
                arrivals.filter { $0.kind == kind && $0.sequence >= change.sequence }.map(\.at).min().map { $0 - change.at }
            }.sorted()
            guard !latencies.isEmpty else {
                Self.say("push latency, \(kind): nothing arrived")
                continue
            }
            func quantile(_ q: Double) -> Double { latencies[min(latencies.count - 1, Int((Double(latencies.count) * q).rounded(.up)) - 1)] }
            Self.say(
                String(
                    format: "push latency, change set → delta at the %@ (1 s delta cadence, %d of %d): p50 %.0f ms, p99 %.0f ms, max %.0f ms; target p99 ≤ 1,000 ms",
                    kind as NSString, latencies.count, sent.count, quantile(0.5) * 1000, quantile(0.99) * 1000, latencies.last! * 1000
                )
            )
        }
    }

    /// A result line, written at once (standard output is block-buffered into a pipe, and a stalled step should not
    /// hide the figures before it).
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
