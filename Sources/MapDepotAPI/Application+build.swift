import ExportCore
import Foundation
import Hummingbird
import Logging
import MapDepotCore
import Prometheus
import ReplicationCore
import ServiceLifecycle

/// Runs a loop (worker, dispatcher, sweeper, scheduler) as a lifecycle service that stops on graceful
/// shutdown (SIGTERM, SIGINT).
///
/// Without `grace` the loop is cancelled as shutdown begins. With it the loop is told (ServiceLifecycle's
/// graceful-shutdown handler; the export worker lets its exports reach a checkpoint) and cancelled only if it
/// is still running `grace` later. A loop that ends by cancellation has stopped as asked, not failed: the process
/// exits 0 (issue #9: it exited 1 with `Error: CancellationError()`).
struct LoopService: Service {
    var grace: Duration?
    /// Times the grace period.
    var clock: any WallClock = SystemClock()
    let body: @Sendable () async throws -> Void

    init(grace: Duration? = nil, clock: any WallClock = SystemClock(), body: @escaping @Sendable () async throws -> Void) {
        self.grace = grace
        self.clock = clock
        self.body = body
    }

    func run() async throws {
        do {
            guard let grace else {
                try await cancelWhenGracefulShutdown { try await body() }
                return
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await body() }
                group.addTask {
                    try await gracefulShutdown()
                    try await clock.sleep(for: grace)
                }
                try await group.next()
                group.cancelAll()
                try? await group.waitForAll()
            }
        } catch is CancellationError {
            return
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
        server: .http1(
            configuration: .init(
                additionalChannelHandlers: [BodyLimitHandler(limit: config.http.maxBodyBytes, changeSetLimit: config.http.maxChangeSetBytes), ExpectContinueHandler()],
                idleTimeout: .milliseconds(Int64(config.http.idleTimeoutSeconds * 1000))
            )
        ),
        configuration: .init(address: .hostname(config.http.host, port: config.http.port), serverName: "MapDepot"),
        services: backgroundServices(components),
        logger: logger
    )
}

/// The loops a node runs besides HTTP, as its configuration asks: the export worker, the webhook dispatcher
/// and the expiry sweeper, the replica scheduler. `serve` and `worker` both run them.
public func backgroundServices(_ components: MapDepotComponents) -> [any Service] {
    let config = components.config
    var services: [any Service] = []
    if config.worker.run {
        services.append(LoopService(grace: .seconds(config.shutdownGraceSeconds), clock: components.clock) { try await components.worker.run() })
    }
    if config.webhooks.runDispatcher {
        services.append(LoopService { try await components.dispatcher.run() })
        services.append(LoopService { try await components.sweeper.run() })
    }
    if config.replication.runScheduler {
        services.append(LoopService { try await components.replicationScheduler.run() })
    }
    return services
}

/// All routes; the HTTP layer only translates between HTTP and the services.
func buildRouter(_ components: MapDepotComponents, metrics: PrometheusCollectorRegistry) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    // Metrics outside errors: it records the status ErrorMiddleware answered with. The other way round it saw
    // every ServiceError thrown past it and labelled each 4xx as 500 (issue #9).
    router.add(middleware: MetricsMiddleware())
    let routes = RouteTable()
    router.add(middleware: ErrorMiddleware(routes: routes))
    let api = APIContext(components: components)
    HealthRoutes(
        health: components.health, artifacts: components.artifacts, metrics: metrics,
        minimumFreeBytes: max(components.config.export.storageReserveBytes, 16 << 20)
    ).register(on: router)
    CatalogRoutes(api: api).register(on: router)
    ExportRoutes(api: api).register(on: router)
    TriggerRoutes(api: api).register(on: router)
    ReplicationRoutes(api: api).register(on: router)
    ReplicaRegistryRoutes(api: api).register(on: router)
    DownloadRoutes(api: api).register(on: router)
    TokenRoutes(api: api).register(on: router)
    let ui = components.config.ui
    UIRoutes(files: StaticFiles(pages: ui.dir, leaflet: ui.leafletDir, document: ui.openAPIDocument)).register(on: router)
    routes.set(router.routes.map { (path: $0.path.description, method: $0.method) })
    return router
}
