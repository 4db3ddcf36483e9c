import ExportCore
import Foundation
import Hummingbird
import Logging
import MapDepotCore
import Prometheus
import ReplicationCore
import ServiceLifecycle

/// Runs a loop (worker, dispatcher, sweeper, scheduler) as a lifecycle service that stops on graceful
/// shutdown.
struct LoopService: Service {
    let body: @Sendable () async throws -> Void

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await body()
        }
    }
}

/// The composition root: the HTTP application with every route and the background services the
/// configuration asks for. `main` and the tests call this same function.
public func buildApplication(
    _ config: AppConfig,
    logger: Logger,
    metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
    clock: any WallClock = SystemClock()
) async throws -> some ApplicationProtocol {
    let components = try await MapDepotComponents.open(config: config, clock: clock, logger: logger)
    let router = buildRouter(components, metrics: metrics)
    return Application(
        router: router,
        configuration: .init(address: .hostname(config.host, port: config.port), serverName: "MapDepot"),
        services: backgroundServices(components),
        logger: logger
    )
}

/// The loops a node runs besides HTTP, as its configuration asks: the export worker, the webhook dispatcher
/// and the expiry sweeper, the replica scheduler. `serve` and `worker` both run them.
public func backgroundServices(_ components: MapDepotComponents) -> [any Service] {
    let config = components.config
    var services: [any Service] = []
    if config.runWorker {
        services.append(LoopService { try await components.worker.run() })
    }
    if config.runDispatcher {
        services.append(LoopService { try await components.dispatcher.run() })
        services.append(LoopService { try await components.sweeper.run() })
    }
    if config.runReplicationScheduler {
        services.append(LoopService { try await components.replicationScheduler.run() })
    }
    return services
}

/// All routes; the HTTP layer only translates between HTTP and the services.
func buildRouter(_ components: MapDepotComponents, metrics: PrometheusCollectorRegistry) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: ErrorMiddleware())
    router.add(middleware: MetricsMiddleware())
    let api = APIContext(components: components)
    HealthRoutes(health: components.health, artifacts: components.artifacts, metrics: metrics).register(on: router)
    CatalogRoutes(api: api).register(on: router)
    ExportRoutes(api: api).register(on: router)
    ReplicationRoutes(api: api).register(on: router)
    DownloadRoutes(api: api).register(on: router)
    return router
}
