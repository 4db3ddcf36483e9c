import ExportCore
import MapDepotCore
import Foundation
import Logging
import ReplicationCore
import Storage

/// The wired object graph for one configuration: stores, services, worker. Built once by
/// ``buildApplication(_:logger:metrics:clock:)`` for `serve`, and by the CLI commands that work on the same
/// data without a server (`token`, `catalog`, `export`).
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
    public let replication: ReplicationService
    public let replicationScheduler: ReplicationScheduler
    public let clock: any WallClock

    public init(config: AppConfig, clock: any WallClock = SystemClock(), logger: Logger) throws {
        self.config = config
        self.clock = clock
        database = try SQLiteDatabase(path: config.databasePath)
        artifacts = try DirectoryArtifactStore(root: config.artifactsPath)
        let sources = LocalTileSourceOpener()
        tokens = TokenService(store: SQLiteTokenStore(database: database), clock: clock)
        catalog = CatalogService(store: SQLiteCatalogStore(database: database), sources: sources, clock: clock)
        taskStore = SQLiteExportTaskStore(database: database)
        planner = ExportPlanner(maxTiles: config.maxTiles, tilesPerSecond: config.estimateTilesPerSecond)
        exports = ExportService(
            catalog: catalog, tasks: taskStore, planner: planner, clock: clock, maxListLimit: config.maxListLimit
        )
        runner = ExportRunner(
            sources: sources, artifacts: artifacts, planner: planner,
            settings: .init(readConcurrency: config.readConcurrency, expiryDays: config.expiryDays)
        )
        worker = ExportWorker(
            tasks: taskStore, catalog: catalog, runner: runner, clock: clock, expiryDays: config.expiryDays,
            maxConcurrentTasks: config.workerConcurrency, logger: logger
        )
        let replicationStore = SQLiteReplicationStore(database: database)
        let producer = ReplicaProducer(
            store: replicationStore,
            packaging: ZipReplicaPackaging(
                artifacts: artifacts, featuresPerFile: config.replicaFeaturesPerFile, maxZipBytes: config.replicaMaxZipBytes
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
