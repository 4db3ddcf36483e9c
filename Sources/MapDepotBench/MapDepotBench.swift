import ArgumentParser
import Foundation

/// `mapdepot-bench …`: throughput against the peers named in the issues, printed as ratios from one run. Its own
/// executable (issue #10), so that `mapdepot` links only what it serves; it drives the `mapdepot` built beside it.
@main
struct MapDepotBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mapdepot-bench", abstract: "MapDepot's benchmarks against peer tools.",
        subcommands: [BenchExport.self, BenchReplication.self, BenchCluster.self, BenchS3.self, BenchHTTP.self, BenchMirror.self, BenchIngest.self]
    )
}

/// The `mapdepot` binary the benchmarks start (exports, workers, the server): the one in this executable's own build
/// directory (`swift build -c release` builds both).
enum MapDepotBinary {
    static var path: String {
        get throws {
            let own = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            let path = own.deletingLastPathComponent().appendingPathComponent("mapdepot").path
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw ValidationError("\(path) is missing: build it first (swift build -c release)")
            }
            return path
        }
    }
}
