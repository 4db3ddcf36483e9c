import ArgumentParser
import Logging
import MapDepotAPI
import ServiceLifecycle
import UnixSignals

/// `mapdepot worker`: the background work of a node without HTTP — exports, webhook deliveries, expiry and
/// archive, replica production — against the state `serve` nodes share (PostgreSQL).
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Run exports, webhooks, expiry and replica production without serving HTTP."
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let config = try await global.load()
        let logger = global.logger(config)
        let components = try await MapDepotComponents.open(config: config, logger: logger)
        defer { components.close() }
        let group = ServiceGroup(
            configuration: .init(
                services: backgroundServices(components).map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        logger.info("MapDepot worker running", metadata: ["data": "\(config.dataDir)"])
        try await group.run()
    }
}
