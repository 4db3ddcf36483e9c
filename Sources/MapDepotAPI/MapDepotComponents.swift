import AsyncHTTPClient
import Crypto
import ExportCore
import FileStorage
import Foundation
import Logging
import MapDepotCore
import PostgresStorage
import ReplicationCore
import S3Storage
import SQLiteStorage
import TileSources
import ZipPackaging

/// The wired object graph for one configuration: stores, services, worker, dispatcher, sweeper, scheduler.
/// Built once by ``buildApplication(_:logger:metrics:clock:)`` for `serve`, and by the CLI commands that
/// work on the same data without a server (`token`, `catalog`, `export`, `layer`).
///
/// The backend is SQLite in the data directory, or PostgreSQL when `database.url` is set; everything above the
/// store protocols is the same for both.
public struct MapDepotComponents: Sendable {
    public let config: AppConfig
    /// Readiness: the state database answers.
    public let health: any HealthCheck
    /// The PostgreSQL pool's and job listener's task, when that is the backend; ``close()`` ends it.
    private let postgresTask: Task<Void, Never>?
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
    /// Replica files' URLs: produced ones through ``links``, registered ones in their producer's object store.
    let replicaLinks: ReplicaLinks
    /// Pruning of old replicas and history (issue #14), run by the scheduler.
    public let retention: ReplicaRetention

    /// The stores of one backend.
    struct Stores {
        var health: any HealthCheck
        var tokens: any TokenStore
        var catalog: any CatalogStore
        var tasks: any ExportTaskStore
        var replication: any ReplicationStore
        var linkKey: Data
        var postgresTask: Task<Void, Never>?
    }

    /// Opens the backend the configuration names (migrating it) and wires everything on top.
    public static func open(
        config: AppConfig, clock: any WallClock = SystemClock(), logger: Logger, webhookTransport: (any WebhookTransport)? = nil
    ) async throws -> MapDepotComponents {
        let workSignal = WorkSignal()
        let stores: Stores
        if let url = config.database.url {
            let database = try PostgresDatabase(
                url: url, operationTimeout: .milliseconds(Int64(config.database.timeoutSeconds * 1000)), logger: logger
            )
            let listener = PostgresWorkListener(database: database, signal: workSignal, logger: logger)
            let task = Task {
                await withDiscardingTaskGroup { group in
                    group.addTask { await database.run() }
                    group.addTask { await listener.run() }
                }
            }
            do {
                try await database.migrate()
                stores = Stores(
                    health: database, tokens: PostgresTokenStore(database: database), catalog: PostgresCatalogStore(database: database),
                    tasks: PostgresExportTaskStore(database: database, webhookRetryBudget: config.webhooks.retryBudgetSeconds),
                    replication: PostgresReplicationStore(database: database), linkKey: try await database.secret(named: "artifact-link-key"),
                    postgresTask: task
                )
            } catch {
                task.cancel()
                throw error
            }
        } else {
            let database = try await SQLiteDatabase.open(path: config.databasePath)
            stores = Stores(
                health: database, tokens: SQLiteTokenStore(database: database), catalog: SQLiteCatalogStore(database: database),
                tasks: SQLiteExportTaskStore(database: database, webhookRetryBudget: config.webhooks.retryBudgetSeconds),
                replication: SQLiteReplicationStore(database: database), linkKey: try await database.secret(named: "artifact-link-key"),
                postgresTask: nil
            )
        }
        return try MapDepotComponents(
            config: config, stores: stores, workSignal: workSignal, clock: clock, logger: logger, webhookTransport: webhookTransport
        )
    }

    /// The directory store, or the S3 store when `artifacts.location` is `s3://bucket/prefix`.
    static func artifactStore(_ config: AppConfig) throws -> any ArtifactStore {
        guard config.artifactLocation.hasPrefix("s3://") else { return try DirectoryArtifactStore(root: config.artifactLocation) }
        guard let downloads = S3ArtifactStore.DownloadMode(rawValue: config.artifacts.s3.downloads) else {
            throw ServiceError.invalid("artifacts.s3.downloads must be redirect or stream, not \(config.artifacts.s3.downloads)")
        }
        guard !config.artifacts.s3.accessKey.isEmpty, !config.artifacts.s3.secretKey.isEmpty else {
            throw ServiceError.invalid("an s3:// artifact location needs artifacts.s3.access.key and artifacts.s3.secret.key")
        }
        let endpoint = try S3Endpoint(
            location: config.artifactLocation, endpoint: config.artifacts.s3.endpoint, region: config.artifacts.s3.region, pathStyle: config.artifacts.s3.pathStyle
        )
        let client = S3Client(
            endpoint: endpoint, signer: SigV4Signer(accessKey: config.artifacts.s3.accessKey, secretKey: config.artifacts.s3.secretKey, region: config.artifacts.s3.region),
            retry: S3Client.RetryPolicy(attempts: config.artifacts.s3.retryAttempts, firstDelay: .milliseconds(config.artifacts.s3.retryDelayMilliseconds))
        )
        return try S3ArtifactStore(
            client: client, staging: config.stagingPath,
            settings: .init(
                partBytes: config.artifacts.s3.partBytes, uploadConcurrency: config.artifacts.s3.uploadConcurrency, downloads: downloads,
                presignSeconds: config.artifacts.s3.presignSeconds
            )
        )
    }

    /// Ends the PostgreSQL pool, if any.
    public func close() {
        postgresTask?.cancel()
    }

    private init(
        config: AppConfig, stores: Stores, workSignal: WorkSignal, clock: any WallClock, logger: Logger, webhookTransport: (any WebhookTransport)?
    ) throws {
        self.config = config
        self.clock = clock
        health = stores.health
        postgresTask = stores.postgresTask
        artifacts = try Self.artifactStore(config)
        links = SignedLinks(baseURL: config.baseURL, key: SymmetricKey(data: stores.linkKey))
        replicaLinks = ReplicaLinks(
            artifacts: links,
            objectStorage: ObjectStorageEndpoint(
                scheme: config.replication.objectStorageProtocol, host: config.replication.objectStorageHost,
                port: config.replication.objectStoragePort, projectId: config.replication.objectStorageProjectId
            )
        )
        let crashPoints = CrashPoints(config.crashAt)
        let sources = LocalTileSourceOpener()
        tokens = TokenService(
            store: stores.tokens, clock: clock, limiter: RateLimiter(rate: config.http.rateLimitPerSecond, burst: config.http.rateLimitBurst)
        )
        catalog = CatalogService(store: stores.catalog, sources: sources, clock: clock)
        taskStore = stores.tasks
        planner = ExportPlanner(maxTiles: config.export.maxTiles, tilesPerSecond: config.export.estimateTilesPerSecond)
        exports = ExportService(
            catalog: catalog, tasks: taskStore, artifacts: artifacts, planner: planner, clock: clock,
            admission: .init(
                expiryDays: config.export.expiryDays, maxActiveTasksPerCustomer: config.export.maxActiveTasksPerCustomer,
                reserveBytes: config.export.storageReserveBytes, webhooks: WebhookPolicy(allowPrivateNetworks: config.webhooks.allowPrivateNetworks)
            ),
            maxListLimit: config.export.maxListLimit, workSignal: workSignal
        )
        runner = ExportRunner(
            sources: sources, artifacts: artifacts, planner: planner,
            settings: .init(
                readConcurrency: config.export.readConcurrency, writeBatch: config.export.writeBatch, expiryDays: config.export.expiryDays, crashPoints: crashPoints
            ),
            archiver: ZipDirectoryArchiver()
        )
        worker = ExportWorker(
            tasks: taskStore, catalog: catalog, runner: runner, artifacts: artifacts, clock: clock, expiryDays: config.export.expiryDays,
            maxConcurrentTasks: config.worker.concurrency, progressEventInterval: config.webhooks.progressIntervalSeconds,
            maxTilesPerSecond: config.export.maxTilesPerSecond,
            pollInterval: .milliseconds(Int64(config.worker.pollSeconds * 1000)), workSignal: workSignal, leaseDuration: config.worker.leaseSeconds,
            exclusive: config.database.url == nil, logger: logger
        )
        dispatcher = WebhookDispatcher(
            store: taskStore, transport: webhookTransport ?? HTTPClientWebhookTransport(allowPrivateNetworks: config.webhooks.allowPrivateNetworks),
            links: links, clock: clock,
            settings: .init(
                firstRetry: config.webhooks.firstRetrySeconds, timeout: .seconds(max(1, config.webhooks.timeoutSeconds)), crashPoints: crashPoints
            ),
            logger: logger
        )
        sweeper = ExportSweeper(
            store: taskStore, artifacts: artifacts, clock: clock, archiveAfterDays: config.export.archiveAfterDays,
            interval: .milliseconds(Int64(config.export.sweepSeconds * 1000)), logger: logger
        )
        let replicationStore = stores.replication
        let producer = ReplicaProducer(
            store: replicationStore,
            packaging: ZipReplicaPackaging(
                artifacts: artifacts, featuresPerFile: config.replication.featuresPerFile, maxZipBytes: config.replication.maxZipBytes,
                level: config.replication.zipLevel, crashPoints: crashPoints, clock: clock
            ),
            artifacts: artifacts, clock: clock, chainLease: config.replication.chainLeaseSeconds, exclusive: config.database.url == nil,
            webhookRetryBudget: config.webhooks.retryBudgetSeconds
        )
        replication = ReplicationService(store: replicationStore, producer: producer, artifacts: artifacts, clock: clock)
        retention = ReplicaRetention(
            store: replicationStore, artifacts: artifacts, clock: clock, window: max(0, config.replication.retentionDays) * 86_400
        )
        replicationScheduler = ReplicationScheduler(
            store: replicationStore, producer: producer, clock: clock, deltaInterval: config.replication.deltaIntervalSeconds,
            snapshotInterval: config.replication.snapshotIntervalSeconds,
            checkInterval: .milliseconds(Int64(config.replication.schedulerCheckSeconds * 1000)), retention: retention, logger: logger
        )
    }
}
