import ArgumentParser

/// `mapdepot`: the server and its tools in one binary.
@main
struct MapDepot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mapdepot",
        abstract: "MapDepot: map data export (GeoPackage) and replication server.",
        subcommands: [Serve.self, WorkerCommand.self, TokenCommand.self, CatalogCommand.self, ExportCommand.self, LayerCommand.self, BenchCommand.self]
    )
}
