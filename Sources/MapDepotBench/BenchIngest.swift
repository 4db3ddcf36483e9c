import ArgumentParser
import Foundation
import GeoJSON
import JSONValues
import Logging
import MapDepotAPI
import MapDepotCore
import ReplicationCore

/// `mapdepot-bench ingest` (issue #15): change sets of real polygons (Natural Earth's countries, repeated under new
/// ids) posted to the real server over HTTP, one curl process keeping its connection, in MB of GeoJSON per second;
/// against `ogr2ogr -append` of the same FeatureCollections into a GeoPackage. One run, printed as figures and a ratio.
struct BenchIngest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ingest", abstract: "Change ingestion through the API vs ogr2ogr -append.")

    @Option(help: "MB of GeoJSON to post in all.") var megabytes = 100
    @Option(help: "Size of each change set, in MB (a change set streams: the 5 MB body limit bounds each of its features).") var bodyMegabytes = 4.5
    @Option(help: "Natural Earth countries GeoJSON.") var countries = "../shared/data/naturalearth_countries.geojson"

    func run() async throws {
        let work = NSTemporaryDirectory() + "mapdepot-bench-ingest-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let shapes = try FeatureCollection(json: try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: countries))), path: "countries").features

        // Bodies of whole features up to the size, every feature a new id; the same features as plain collections for the peer.
        var bodies: [String] = []
        var collections: [String] = []
        var total = 0
        var index = 0
        while total < megabytes * 1_000_000 {
            var features: [String] = []
            var size = 0
            while size < Int(bodyMegabytes * 1_000_000) - 400_000 {
                let shape = shapes[index % shapes.count]
                var properties = shape.properties ?? [:]
                properties["copy"] = .number(Double(index / shapes.count))
                let feature = Feature(id: .string("c\(index)"), geometry: shape.geometry, properties: properties)
                let text = CanonicalJSON.text(feature.json)
                features.append(text)
                size += text.utf8.count + 1
                index += 1
            }
            let collection = #"{"type":"FeatureCollection","features":["# + features.joined(separator: ",") + "]}"
            let body = #"{"upserts":"# + collection + "}"
            let path = work + "/body-\(bodies.count).json"
            try body.write(toFile: path, atomically: false, encoding: .utf8)
            try collection.write(toFile: work + "/changes-\(bodies.count).geojson", atomically: false, encoding: .utf8)
            bodies.append(path)
            collections.append(work + "/changes-\(bodies.count - 1).geojson")
            total += body.utf8.count
        }

        var config = AppConfig()
        config.dataDir = work + "/data"
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let components = try await MapDepotComponents.open(config: config, logger: logger)
        let token = try await components.tokens.create(subject: "bench", scopes: [.replicationWrite], lifetime: nil)
        _ = try await components.replication.createLayer(LayerDraft(layerId: 1, layerName: "countries", geometryTypes: [.polygon]))
        components.close()
        let (server, base) = try await BenchHTTP.serve(dataDir: config.dataDir, settings: [:])
        defer { server.terminate() }

        // One curl for every body (`--next`), so that the figure is the server's and not a process start per request.
        var arguments = ["-sS", "--fail-with-body", "-o", "/dev/null", "-w", "%{http_code}\\n"]
        for (number, body) in bodies.enumerated() {
            if number > 0 { arguments += ["--next", "-sS", "--fail-with-body", "-o", "/dev/null", "-w", "%{http_code}\\n"] }
            // curl asks `Expect: 100-continue` before each body (over 1 MB), as libcurl clients do; the server answers at once.
            arguments += ["-X", "POST", "-H", "x-api-key: \(token)", "-H", "Content-Type: application/json", "--data-binary", "@" + body, base + "/layers/1/changes"]
        }
        sync()
        let cpuBefore = Self.cpuSeconds(of: server.processIdentifier)
        let start = Date()
        let (_, codes) = try BenchProcess.run("/usr/bin/env", ["curl"] + arguments)
        let seconds = Date().timeIntervalSince(start)
        let statuses = codes.split(separator: "\n")
        guard statuses.count == bodies.count, statuses.allSatisfy({ $0 == "200" }) else {
            throw ValidationError("the server did not take every change set: \(statuses.prefix(5))")
        }
        let serverRSS = Self.peakKilobytes(of: server.processIdentifier)
        let cpu = Self.cpuSeconds(of: server.processIdentifier) - cpuBefore

        sync()
        let peerStart = Date()
        var peerRSS = 0
        for collection in collections {
            peerRSS = max(peerRSS, try BenchProcess.run("/usr/bin/env", ["ogr2ogr", "-append", "-f", "GPKG", work + "/peer.gpkg", collection, "-nln", "countries"]).0)
        }
        let peerSeconds = Date().timeIntervalSince(peerStart)
        let ours = Double(total) / 1e6 / seconds, peer = Double(total) / 1e6 / peerSeconds
        print(
            String(
                format: "ingest, %d polygons in %d change sets, %.1f MB of GeoJSON: MapDepot %.1f MB/s (%.2f s, %.0f features/s), ogr2ogr -append %.1f MB/s (%.2f s): %.2f×; target ≥ 50 MB/s and > 1×",
                index, bodies.count, Double(total) / 1e6, ours, seconds, Double(index) / seconds, peer, peerSeconds, ours / peer
            )
        )
        print("peak RSS: server \(serverRSS / 1024) MB, ogr2ogr \(peerRSS / 1024) MB")
        // CPU time is steadier than the wall clock on a shared machine: it compares two builds where MB/s swings.
        print(String(format: "server CPU: %.2f s for %.2f s of wall time (%.2f cores), %.1f ms per MB", cpu, seconds, cpu / seconds, cpu * 1000 / (Double(total) / 1e6)))
    }

    /// A running process's user and system CPU time, from /proc (fields 14 and 15 of `stat`, in clock ticks).
    static func cpuSeconds(of pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        // After the command's closing parenthesis: field 3 onwards.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// A running process's peak resident set, from /proc.
    static func peakKilobytes(of pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
}
