import ExportCore
import MapDepotCore
import Foundation
import Hummingbird
import Logging
import Prometheus
import ReplicationCore
import ServiceLifecycle

/// Runs the export worker as a lifecycle service, stopping it on graceful shutdown.
struct ExportWorkerService: Service {
    let worker: ExportWorker

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await worker.run()
        }
    }
}

/// Runs the replica scheduler as a lifecycle service.
struct ReplicationSchedulerService: Service {
    let scheduler: ReplicationScheduler

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await scheduler.run()
        }
    }
}

/// The composition root: the HTTP application with every route and, unless `config.runWorker` is false,
/// the export worker as one of its services. `main` and the tests call this same function.
public func buildApplication(
    _ config: AppConfig,
    logger: Logger,
    metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
    clock: any WallClock = SystemClock()
) async throws -> some ApplicationProtocol {
    let components = try MapDepotComponents(config: config, clock: clock, logger: logger)
    let router = buildRouter(components, metrics: metrics)
    var services: [any Service] = []
    if config.runWorker {
        services.append(ExportWorkerService(worker: components.worker))
    }
    if config.runReplicationScheduler {
        services.append(ReplicationSchedulerService(scheduler: components.replicationScheduler))
    }
    return Application(
        router: router,
        configuration: .init(address: .hostname(config.host, port: config.port), serverName: "MapDepot"),
        services: services,
        logger: logger
    )
}

/// All routes; the HTTP layer only translates between HTTP and the services.
func buildRouter(_ components: MapDepotComponents, metrics: PrometheusCollectorRegistry) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: ErrorMiddleware())
    router.add(middleware: MetricsMiddleware())
    let api = APIContext(components: components)
    HealthRoutes(database: components.database, metrics: metrics).register(on: router)
    CatalogRoutes(api: api).register(on: router)
    ExportRoutes(api: api).register(on: router)
    ReplicationRoutes(api: api).register(on: router)
    DownloadRoutes(api: api).register(on: router)
    return router
}
