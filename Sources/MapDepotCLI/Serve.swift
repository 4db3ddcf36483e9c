import ArgumentParser
import Configuration
import Hummingbird
import Logging
import MapDepotAPI
import Metrics
import Prometheus

/// `mapdepot serve`: the HTTP API with the export worker in-process.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start the HTTP server (and the export worker).")

    @OptionGroup var global: GlobalOptions

    @Option(help: "Address to bind (default 127.0.0.1; env MAPDEPOT_HOST).")
    var host: String?

    @Option(help: "Port to listen on (default 8080; env MAPDEPOT_PORT).")
    var port: Int?

    @Flag(help: "Do not run the export worker in this process.")
    var noWorker = false

    func run() async throws {
        var extra: [AbsoluteConfigKey: ConfigValue] = [:]
        if let host { extra[AbsoluteConfigKey(["host"])] = ConfigValue(.string(host), isSecret: false) }
        if let port { extra[AbsoluteConfigKey(["port"])] = ConfigValue(.int(port), isSecret: false) }
        var config = try await global.load(extra: extra)
        config.worker.run = !noWorker
        let logger = global.logger(config)
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let app = try await buildApplication(config, logger: logger, metrics: registry)
        logger.info("MapDepot listening", metadata: ["url": "\(config.baseURL)", "data": "\(config.dataDir)"])
        try await app.runService()
    }
}
