import AsyncHTTPClient
import Crypto
import ExportCore
import Foundation
import Logging
import MapDepotCore
import ReplicationCore
import Storage

/// The wired object graph for one configuration: stores, services, worker, dispatcher, sweeper, scheduler.
/// Built once by ``buildApplication(_:logger:metrics:clock:)`` for `serve`, and by the CLI commands that
/// work on the same data without a server (`token`, `catalog`, `export`, `layer`).
public struct MapDepotComponents: Sendable {
    public let config: AppConfig
    public let database: SQLiteDatabase
    public let tokens: TokenService
    public let catalog: CatalogService
    public let exports: ExportService
    public let taskStore: any ExportTaskStore
    public let artifacts: any ArtifactStore
    public let planner: ExportPlanner
    public let runner: ExportRunner
    public let worker: ExportWorker
    public let dispatcher: WebhookDispatcher
    public let sweeper: ExportSweeper
    public let replication: ReplicationService
    public let replicationScheduler: ReplicationScheduler
    public let clock: any WallClock
    let links: SignedLinks

    public init(config: AppConfig, clock: any WallClock = SystemClock(), logger: Logger, webhookTransport: (any WebhookTransport)? = nil) throws {
        self.config = config
        self.clock = clock
        database = try SQLiteDatabase(path: config.databasePath)
        artifacts = try DirectoryArtifactStore(root: config.artifactsPath)
        links = SignedLinks(baseURL: config.baseURL, key: SymmetricKey(data: try database.secret(named: "artifact-link-key")))
        let render = ExportTask.webhookBody(links: links)
        let crashPoints = CrashPoints(config.crashAt)
        let sources = LocalTileSourceOpener()
        tokens = TokenService(store: SQLiteTokenStore(database: database), clock: clock)
        catalog = CatalogService(store: SQLiteCatalogStore(database: database), sources: sources, clock: clock)
        taskStore = SQLiteExportTaskStore(database: database, webhookRetryBudget: config.webhookRetryBudgetSeconds)
        planner = ExportPlanner(maxTiles: config.maxTiles, tilesPerSecond: config.estimateTilesPerSecond)
        exports = ExportService(
            catalog: catalog, tasks: taskStore, artifacts: artifacts, planner: planner, clock: clock,
            admission: .init(
                expiryDays: config.expiryDays, maxActiveTasksPerCustomer: config.maxActiveTasksPerCustomer,
                reserveBytes: config.storageReserveBytes, webhooks: WebhookPolicy(allowPrivateNetworks: config.webhooksAllowPrivateNetworks)
            ),
            render: render, maxListLimit: config.maxListLimit
        )
        runner = ExportRunner(
            sources: sources, artifacts: artifacts, planner: planner,
            settings: .init(
                readConcurrency: config.readConcurrency, writeBatch: config.writeBatch, expiryDays: config.expiryDays, crashPoints: crashPoints
            )
        )
        worker = ExportWorker(
            tasks: taskStore, catalog: catalog, runner: runner, artifacts: artifacts, clock: clock, expiryDays: config.expiryDays,
            maxConcurrentTasks: config.workerConcurrency, progressEventInterval: config.progressEventSeconds, render: render, logger: logger
        )
        dispatcher = WebhookDispatcher(
            store: taskStore, transport: webhookTransport ?? HTTPClientWebhookTransport(client: .shared), clock: clock,
            settings: .init(firstRetry: config.webhookFirstRetrySeconds, crashPoints: crashPoints), logger: logger
        )
        sweeper = ExportSweeper(
            store: taskStore, artifacts: artifacts, clock: clock, archiveAfterDays: config.archiveAfterDays,
            interval: .milliseconds(Int64(config.sweepSeconds * 1000)), render: render, logger: logger
        )
        let replicationStore = SQLiteReplicationStore(database: database)
        let producer = ReplicaProducer(
            store: replicationStore,
            packaging: ZipReplicaPackaging(
                artifacts: artifacts, featuresPerFile: config.replicaFeaturesPerFile, maxZipBytes: config.replicaMaxZipBytes,
                crashPoints: crashPoints
            ),
            artifacts: artifacts, clock: clock
        )
        replication = ReplicationService(store: replicationStore, producer: producer, clock: clock)
        replicationScheduler = ReplicationScheduler(
            store: replicationStore, producer: producer, clock: clock, deltaInterval: config.deltaIntervalSeconds,
            snapshotInterval: config.snapshotIntervalSeconds,
            checkInterval: .milliseconds(Int64(config.schedulerCheckSeconds * 1000)), logger: logger
        )
    }
}
