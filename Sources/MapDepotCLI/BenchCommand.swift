import ArgumentParser

/// `mapdepot bench …`: throughput against the peers named in the issues, printed as ratios.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks against peer tools.", subcommands: [BenchExport.self, BenchReplication.self, BenchCluster.self, BenchS3.self, BenchHTTP.self]
    )
}
