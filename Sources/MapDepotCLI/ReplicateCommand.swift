import ArgumentParser
import AsyncHTTPClient
import Foundation
import JSONValues
import MapDepotCore
import ReplicationClient
import ReplicationCore
import ReplicationMirror

/// `mapdepot replicate [sync]|status`: keeps a local copy of one layer's geometry type in sync with a MapDepot server
/// (issue #14). Exit codes: 0 up to date, 1 partial, 2 error (the copy is at its last whole replica), 3 cursor too old.
struct ReplicateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replicate", abstract: "Keep a local GeoPackage or GeoJSON directory in sync with a layer of a MapDepot server.",
        discussion: "Exit codes: 0 up to date, 1 partial (more to apply), 2 error (the local copy is unchanged since its last whole replica), 3 cursor too old.",
        subcommands: [Sync.self, Status.self], defaultSubcommand: Sync.self
    )

    /// Where and what to sync.
    struct Connection: ParsableArguments {
        @Option(help: "The server's base URL, e.g. http://localhost:8080.") var server: String
        @Option(help: "A token with replication:read (env MAPDEPOT_TOKEN).") var token: String?
        @Option(help: "The layer id.") var layer: Int
        @Option(help: "point, linestring or polygon.") var geometry: String
        @Option(help: "The local copy: FILE.gpkg (a features GeoPackage) or a directory (GeoJSON).") var into: String
        @Option(help: "The GeoPackage's features table (default layer_<id>_<geometry>).") var table: String?

        func geometryType() throws -> GeometryType {
            guard let type = GeometryType(rawValue: geometry.lowercased()) else {
                throw ValidationError("geometry \"\(geometry)\" is not one of point, linestring, polygon")
            }
            return type
        }

        var isGeoPackage: Bool { into.lowercased().hasSuffix(".gpkg") }

        func target(crashPoints: CrashPoints) throws -> any MirrorTarget {
            if isGeoPackage {
                return try GeoPackageMirror(path: into, table: table ?? "layer_\(layer)_\(try geometryType().rawValue)", crashPoints: crashPoints)
            }
            return try DirectoryMirror(directory: into, crashPoints: crashPoints)
        }

        func server(client: HTTPClient) throws -> HTTPReplicaServer {
            HTTPReplicaServer(
                server: server, token: token ?? ProcessInfo.processInfo.environment["MAPDEPOT_TOKEN"], layerId: layer, geometryType: try geometryType(),
                client: client
            )
        }

        func engine(client: HTTPClient, events: @escaping @Sendable (SyncEvent) -> Void) throws -> ReplicaSync {
            let crashPoints = CrashPoints(ProcessInfo.processInfo.environment["MAPDEPOT_DEBUG_CRASH_AT"])
            let type = try geometryType()
            return ReplicaSync(
                layerId: layer, geometryType: type, server: try server(client: client), target: try target(crashPoints: crashPoints), reader: ZipContentReader(),
                staging: isGeoPackage ? into + ".downloads" : into + "/.downloads", crashPoints: crashPoints, events: events
            )
        }
    }

    struct Sync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take the latest snapshot the first time, then apply every delta in sequence order.")
        @OptionGroup var connection: Connection
        @Flag(help: "Apply at most one replica.") var once = false
        @Option(help: "Stop after the delta with this sequence number.") var untilSequence: Int?
        @Option(help: "Download at most this many bytes in this run (at least one replica is always applied).") var maxBytes: Int64?
        @Flag(help: "When the server no longer keeps history back to the local copy, exit 3 instead of taking a new snapshot.")
        var noResnapshot = false
        @Flag(help: "Keep running: apply each delta as the server announces it (its event stream), polling every --interval seconds too.")
        var follow = false
        @Option(help: "Seconds between polls with --follow (the fallback when the event stream is lost).") var interval: Double = 30

        func run() async throws {
            let client = HTTPReplicaServer.makeClient()
            let code: Int32
            do {
                let engine = try connection.engine(client: client, events: SyncReporter(terminal: isatty(STDERR_FILENO) == 1).report)
                let limits = SyncLimits(once: once, untilSequence: untilSequence, maxBytes: maxBytes, resnapshot: !noResnapshot)
                let doorbell = SyncDoorbell(clock: SystemClock())
                let server = try connection.server(client: client)
                let listener = follow ? Task { await server.listen(ringing: doorbell) } : nil
                defer { listener?.cancel() }
                var outcome = try await engine.run(limits)
                while follow, outcome.exitCode == 0 || outcome.exitCode == 1, untilSequence == nil || outcome.exitCode != 0 {
                    // More to apply (partial) goes on at once; up to date waits for the next announcement or poll.
                    if outcome.exitCode == 0 { await doorbell.wait(timeout: .milliseconds(Int64(max(0.1, interval) * 1000))) }
                    // Following, a failed run (the server away, the file busy) is said and tried again at the next
                    // announcement or poll: the copy is at its last whole replica either way.
                    while true {
                        do {
                            outcome = try await engine.run(limits)
                            break
                        } catch {
                            FileHandle.standardError.write(Data("mapdepot replicate: \(Self.describe(error)); trying again\n".utf8))
                            await doorbell.wait(timeout: .milliseconds(Int64(max(0.1, interval) * 1000)))
                        }
                    }
                }
                Self.say(outcome)
                code = outcome.exitCode
            } catch {
                FileHandle.standardError.write(Data("mapdepot replicate: \(Self.describe(error))\n".utf8))
                code = SyncOutcome.errorExitCode
            }
            try await client.shutdown()
            throw ExitCode(code)
        }

        static func say(_ outcome: SyncOutcome) {
            let cursor = outcome.cursor
            let position = "change \(cursor.changeSequence), delta \(cursor.deltaSequence)"
            switch outcome {
            case .upToDate: print("up to date at \(position)")
            case .reachedSequence: print("stopped at \(position) as asked")
            case .partial(_, let remaining): print("partial: at \(position), \(remaining) or more replicas to apply")
            case .cursorTooOld(_, let message): print("cursor too old: \(message); run again without --no-resnapshot to take a new snapshot")
            }
        }

        static func describe(_ error: any Error) -> String {
            if let error = error as? SyncError { return error.description }
            return PlainError(error)?.description ?? "\(error)"
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Where the local copy stands against the server.")
        @OptionGroup var connection: Connection
        @Flag(help: "Print JSON.") var json = false
        @Flag(help: "Also recompute the layer hash from every local feature and compare it with the cursor's.") var verify = false

        func run() async throws {
            let client = HTTPReplicaServer.makeClient()
            do {
                try await report(client: client)
            } catch {
                try await client.shutdown()
                FileHandle.standardError.write(Data("mapdepot replicate status: \(Sync.describe(error))\n".utf8))
                throw ExitCode(SyncOutcome.errorExitCode)
            }
            try await client.shutdown()
        }

        private func report(client: HTTPClient) async throws {
            let crashPoints = CrashPoints.none
            let engine = try connection.engine(client: client) { _ in }
            let status = try await engine.status()
            var object: [String: JSONValue] = [
                "features": .number(Double(status.features)),
                "serverChangeSequence": .number(Double(max(status.latestDelta?.changeSequence ?? 0, status.latestSnapshot?.changeSequence ?? 0))),
                "serverDeltaSequence": .number(Double(status.latestDelta?.sequenceNumber ?? 0)),
            ]
            if let local = status.local {
                object["localChangeSequence"] = .number(Double(local.changeSequence))
                object["localDeltaSequence"] = .number(Double(local.deltaSequence))
                object["sourceId"] = local.sourceId.map { .string($0.uuidString.lowercased()) } ?? .null
                object["layerHash"] = local.layerHash.map(JSONValue.string) ?? .null
                object["localTimestamp"] = local.replicaTimestamp.map { .string(Timestamp.string($0)) } ?? .null
            }
            object["changesBehind"] = status.changesBehind.map { .number(Double($0)) } ?? .null
            object["secondsBehind"] = status.secondsBehind.map { .number($0) } ?? .null
            if verify {
                let hash = try await connection.target(crashPoints: crashPoints).storedHash().hex
                object["storedHash"] = .string(hash)
                object["verified"] = .bool(status.local?.layerHash == nil || status.local?.layerHash == hash)
            }
            if json {
                print(try CLIOutput.json(.object(object)))
            } else if let local = status.local {
                print(
                    "local change \(local.changeSequence) (delta \(local.deltaSequence)), server change \(object["serverChangeSequence"]!.numberValue.map { Int($0) } ?? 0): "
                        + "\(status.changesBehind ?? 0) changes behind, \(status.features) features"
                )
            } else {
                print("the local copy has never been synced")
            }
        }
    }
}

/// Progress on standard error: a bar on a terminal, one line per replica otherwise.
struct SyncReporter: Sendable {
    let terminal: Bool

    func report(_ event: SyncEvent) {
        switch event {
        case .downloading(let replica, let bytes, let total):
            guard terminal, total > 0 else { return }
            let width = 30
            let filled = Int(Int64(width) * min(bytes, total) / total)
            let line = "\r\(replica.replicaType.rawValue) \(replica.sequenceNumber) [" + String(repeating: "#", count: filled)
                + String(repeating: " ", count: width - filled) + "] \(bytes * 100 / total)%"
            FileHandle.standardError.write(Data(line.utf8))
        case .applying(let replica, let features):
            write("\(terminal ? "\n" : "")applying \(replica.replicaType.rawValue) \(replica.sequenceNumber): \(features) entries")
        case .applied(let replica, let cursor):
            write("applied \(replica.replicaType.rawValue) \(replica.sequenceNumber): now at change \(cursor.changeSequence)")
        case .skipped(let replica):
            write("skipped \(replica.replicaType.rawValue) \(replica.sequenceNumber): nothing to apply")
        case .resnapshot(let reason):
            write("taking a new snapshot: \(reason)")
        }
    }

    private func write(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
