import Configuration
import Foundation

/// Every setting of MapDepot, decoded once from flags, environment (`MAPDEPOT_…`) and an optional JSON
/// file, in that order of precedence, then passed down as a value. Nothing reads the environment later.
public struct AppConfig: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// State database (SQLite) and artifacts live here.
    public var dataDir = "./data"
    /// `postgres://user:password@host:port/database`: state in PostgreSQL instead of SQLite.
    public var databaseURL: String?
    /// PostgreSQL: how long one statement or transaction may take, the wait for a connection included, before the
    /// request answers 503 (a restart or outage; without a bound they waited for good, issue #9).
    public var databaseTimeoutSeconds: Double = 60
    /// The base of artifact URLs; default `http://{host}:{port}`.
    public var publicURL: String?
    /// Requests covering more tiles are refused with 422.
    public var maxTiles = 10_000_000
    /// Request bodies above this size are refused with 413.
    public var maxBodyBytes = 5 * 1024 * 1024
    /// Export tasks run at once by this process.
    public var workerConcurrency = 2
    /// Tile read batches in flight per task.
    public var readConcurrency = 8
    /// Tiles per write transaction: also how often an export checkpoints (pause, resume, progress).
    public var writeBatch = 2_000
    /// Days from completion to `expiredAt`.
    public var expiryDays = 30
    /// The rate `estimatedTime` assumes.
    public var estimateTilesPerSecond = 5_000.0
    /// Largest `limit` of `GET /export-tasks`.
    public var maxListLimit = 100
    public var logLevel = "info"
    /// Run the export worker inside `serve`.
    public var runWorker = true
    /// How long an idle worker waits for a job notification before it looks for work anyway.
    public var workerPollSeconds: Double = 1
    /// How long a node holds a job without renewing its lease (takeover delay when a node dies).
    public var leaseSeconds: Double = 30
    /// Run the replica scheduler inside `serve`.
    public var runReplicationScheduler = true
    /// Features (or deleted ids) per GeoJSON file in a replica zip.
    public var replicaFeaturesPerFile = 10_000
    /// Hard cap on a replica zip's size.
    public var replicaMaxZipBytes: Int64 = 500_000_000
    /// The scheduler's delta cadence: a delta when the layer changed and the last is this old.
    public var deltaIntervalSeconds: Double = 60
    /// The scheduler's snapshot cadence.
    public var snapshotIntervalSeconds: Double = 86_400
    /// How long a node holds a replica chain's production lease.
    public var chainLeaseSeconds: Double = 600
    /// How often the scheduler looks for due replicas.
    public var schedulerCheckSeconds: Double = 5
    /// How long a webhook delivery is retried.
    public var webhookRetryBudgetSeconds: Double = 86_400
    /// The first retry's delay; each next one doubles, up to an hour, with jitter.
    public var webhookFirstRetrySeconds: Double = 2
    /// A webhook call's timeout; a claimed delivery falls due again 5 s after it (a dispatcher that died).
    public var webhookTimeoutSeconds = 10
    /// Webhook URLs on loopback or private networks are refused unless this is true.
    public var webhooksAllowPrivateNetworks = false
    /// TASK_IN_PROGRESS at most this often per task.
    public var progressEventSeconds: Double = 10
    /// PENDING + IN_PROGRESS + PAUSED tasks per customer (429 beyond).
    public var maxActiveTasksPerCustomer = 20
    /// Bytes kept free on the artifact store besides running exports' needs (507 below).
    public var storageReserveBytes: Int64 = 0
    /// Finished tasks are archived after this many days.
    public var archiveAfterDays = 90
    /// How often expiry and archive run.
    public var sweepSeconds: Double = 60
    /// Run the webhook dispatcher and the sweeper inside `serve`.
    public var runDispatcher = true
    /// Where artifacts are published: a directory (default `{data.dir}/artifacts`; a shared mount in a cluster) or
    /// `s3://bucket/prefix` for an S3-compatible object store.
    public var artifactsLocation: String?
    /// Where files are built before an S3 upload (this node's disk); default `{data.dir}/staging`.
    public var stagingDir: String?
    /// The S3 endpoint URL (`http(s)://host[:port]`); default AWS's for the region.
    public var s3Endpoint: String?
    public var s3Region = "us-east-1"
    public var s3AccessKey = ""
    public var s3SecretKey = ""
    /// `{endpoint}/{bucket}/{key}` (MinIO, Ceph, moto) rather than `{bucket}.{host}/{key}` (AWS).
    public var s3PathStyle = true
    /// `redirect` (307 to a pre-signed URL) or `stream` (bytes through MapDepot).
    public var s3Downloads = "redirect"
    public var s3PartBytes = 16 * 1024 * 1024
    public var s3UploadConcurrency = 4
    public var s3PresignSeconds = 900
    /// A request S3 answers 5xx/429 to is tried this many times, the pauses doubling from the first (capped at 20 s).
    public var s3RetryAttempts = 8
    public var s3RetryDelayMilliseconds = 200
    /// On SIGTERM/SIGINT running exports stop at their next checkpoint; after this long they are cancelled.
    public var shutdownGraceSeconds: Double = 30
    /// An HTTP connection that sends nothing for this long (a request's headers or body included) is closed.
    public var httpIdleTimeoutSeconds: Double = 30
    /// Requests a second one token may send to this node on average (429 with `Retry-After` beyond); 0 turns it off.
    public var rateLimitPerSecond: Double = 500
    /// How many requests one token may send at once before the average applies.
    public var rateLimitBurst: Double = 1_000
    /// Failpoints for crash tests (`debug.crash.at`, e.g. `tiles:300`); never set in deployments.
    public var crashAt: String?

    public init() {}

    public var databasePath: String { "\(dataDir)/mapdepot.sqlite" }
    /// The artifact location in effect: the setting, or the data directory's `artifacts` folder.
    public var artifacts: String { artifactsLocation ?? "\(dataDir)/artifacts" }
    public var stagingPath: String { stagingDir ?? "\(dataDir)/staging" }
    public var baseURL: String { publicURL ?? "http://\(host == "0.0.0.0" ? "127.0.0.1" : host):\(port)" }
}

extension AppConfig {
    /// Reads the settings. Keys (JSON file members nest on the dots; environment variables are
    /// `MAPDEPOT_` + the key in upper case with `_` for `.`): `host`, `port`, `data.dir`, `database.url`, `public.url`,
    /// `export.max.tiles`, `http.max.body.bytes`, `worker.concurrency`, `export.read.concurrency`,
    /// `export.expiry.days`, `export.estimate.tiles.per.second`, `export.max.list.limit`, `log.level`,
    /// `replication.features.per.file`, `replication.zip.max.bytes`, `replication.delta.interval.seconds`,
    /// `replication.snapshot.interval.seconds`, `replication.scheduler.check.seconds`,
    /// `webhooks.retry.budget.seconds`, `webhooks.first.retry.seconds`, `webhooks.timeout.seconds`, `webhooks.allow.private.networks`,
    /// `webhooks.progress.interval.seconds`, `export.max.active.tasks.per.customer`, `export.storage.reserve.bytes`,
    /// `export.archive.after.days`, `export.sweep.interval.seconds`, `export.lease.seconds`, `worker.poll.seconds`, `export.write.batch`, `debug.crash.at`,
    /// `artifacts.location`, `artifacts.staging`, `artifacts.s3.endpoint`, `artifacts.s3.region`, `artifacts.s3.access.key`,
    /// `artifacts.s3.secret.key`, `artifacts.s3.path.style`, `artifacts.s3.downloads`, `artifacts.s3.part.bytes`,
    /// `artifacts.s3.upload.concurrency`, `artifacts.s3.presign.seconds`, `artifacts.s3.retry.attempts`,
    /// `artifacts.s3.retry.delay.ms`, `shutdown.grace.seconds`, `http.idle.timeout.seconds`,
    /// `http.rate.limit.per.second`, `http.rate.limit.burst`, `database.timeout.seconds`.
    public init(reader: ConfigReader) {
        var config = AppConfig()
        config.host = reader.string(forKey: "host", default: config.host)
        config.port = reader.int(forKey: "port", default: config.port)
        config.dataDir = reader.string(forKey: "data.dir", default: config.dataDir)
        config.databaseURL = reader.string(forKey: "database.url")
        config.databaseTimeoutSeconds = reader.double(forKey: "database.timeout.seconds", default: config.databaseTimeoutSeconds)
        config.publicURL = reader.string(forKey: "public.url")
        config.maxTiles = reader.int(forKey: "export.max.tiles", default: config.maxTiles)
        config.maxBodyBytes = reader.int(forKey: "http.max.body.bytes", default: config.maxBodyBytes)
        config.workerConcurrency = reader.int(forKey: "worker.concurrency", default: config.workerConcurrency)
        config.readConcurrency = reader.int(forKey: "export.read.concurrency", default: config.readConcurrency)
        config.writeBatch = reader.int(forKey: "export.write.batch", default: config.writeBatch)
        config.leaseSeconds = reader.double(forKey: "export.lease.seconds", default: config.leaseSeconds)
        config.workerPollSeconds = reader.double(forKey: "worker.poll.seconds", default: config.workerPollSeconds)
        config.expiryDays = reader.int(forKey: "export.expiry.days", default: config.expiryDays)
        config.estimateTilesPerSecond = reader.double(
            forKey: "export.estimate.tiles.per.second", default: config.estimateTilesPerSecond
        )
        config.maxListLimit = reader.int(forKey: "export.max.list.limit", default: config.maxListLimit)
        config.logLevel = reader.string(forKey: "log.level", default: config.logLevel)
        config.replicaFeaturesPerFile = reader.int(forKey: "replication.features.per.file", default: config.replicaFeaturesPerFile)
        config.replicaMaxZipBytes = Int64(reader.int(forKey: "replication.zip.max.bytes", default: Int(config.replicaMaxZipBytes)))
        config.deltaIntervalSeconds = reader.double(forKey: "replication.delta.interval.seconds", default: config.deltaIntervalSeconds)
        config.webhookRetryBudgetSeconds = reader.double(forKey: "webhooks.retry.budget.seconds", default: config.webhookRetryBudgetSeconds)
        config.webhookFirstRetrySeconds = reader.double(forKey: "webhooks.first.retry.seconds", default: config.webhookFirstRetrySeconds)
        config.webhookTimeoutSeconds = reader.int(forKey: "webhooks.timeout.seconds", default: config.webhookTimeoutSeconds)
        config.webhooksAllowPrivateNetworks = reader.bool(forKey: "webhooks.allow.private.networks", default: config.webhooksAllowPrivateNetworks)
        config.progressEventSeconds = reader.double(forKey: "webhooks.progress.interval.seconds", default: config.progressEventSeconds)
        config.maxActiveTasksPerCustomer = reader.int(forKey: "export.max.active.tasks.per.customer", default: config.maxActiveTasksPerCustomer)
        config.storageReserveBytes = Int64(reader.int(forKey: "export.storage.reserve.bytes", default: Int(config.storageReserveBytes)))
        config.archiveAfterDays = reader.int(forKey: "export.archive.after.days", default: config.archiveAfterDays)
        config.sweepSeconds = reader.double(forKey: "export.sweep.interval.seconds", default: config.sweepSeconds)
        config.crashAt = reader.string(forKey: "debug.crash.at")
        config.rateLimitPerSecond = reader.double(forKey: "http.rate.limit.per.second", default: config.rateLimitPerSecond)
        config.rateLimitBurst = reader.double(forKey: "http.rate.limit.burst", default: config.rateLimitBurst)
        config.shutdownGraceSeconds = reader.double(forKey: "shutdown.grace.seconds", default: config.shutdownGraceSeconds)
        config.httpIdleTimeoutSeconds = reader.double(forKey: "http.idle.timeout.seconds", default: config.httpIdleTimeoutSeconds)
        config.chainLeaseSeconds = reader.double(forKey: "replication.chain.lease.seconds", default: config.chainLeaseSeconds)
        config.schedulerCheckSeconds = reader.double(forKey: "replication.scheduler.check.seconds", default: config.schedulerCheckSeconds)
        config.snapshotIntervalSeconds = reader.double(
            forKey: "replication.snapshot.interval.seconds", default: config.snapshotIntervalSeconds
        )
        config.artifactsLocation = reader.string(forKey: "artifacts.location")
        config.stagingDir = reader.string(forKey: "artifacts.staging")
        config.s3Endpoint = reader.string(forKey: "artifacts.s3.endpoint")
        config.s3Region = reader.string(forKey: "artifacts.s3.region", default: config.s3Region)
        config.s3AccessKey = reader.string(forKey: "artifacts.s3.access.key", default: config.s3AccessKey)
        config.s3SecretKey = reader.string(forKey: "artifacts.s3.secret.key", isSecret: true, default: config.s3SecretKey)
        config.s3PathStyle = reader.bool(forKey: "artifacts.s3.path.style", default: config.s3PathStyle)
        config.s3Downloads = reader.string(forKey: "artifacts.s3.downloads", default: config.s3Downloads)
        config.s3PartBytes = reader.int(forKey: "artifacts.s3.part.bytes", default: config.s3PartBytes)
        config.s3UploadConcurrency = reader.int(forKey: "artifacts.s3.upload.concurrency", default: config.s3UploadConcurrency)
        config.s3PresignSeconds = reader.int(forKey: "artifacts.s3.presign.seconds", default: config.s3PresignSeconds)
        config.s3RetryAttempts = reader.int(forKey: "artifacts.s3.retry.attempts", default: config.s3RetryAttempts)
        config.s3RetryDelayMilliseconds = reader.int(forKey: "artifacts.s3.retry.delay.ms", default: config.s3RetryDelayMilliseconds)
        self = config
    }

    /// Settings from (highest first) `overrides` (command-line flags), `MAPDEPOT_…` environment variables,
    /// and the JSON file at `file`.
    public static func load(
        overrides: [AbsoluteConfigKey: ConfigValue] = [:],
        environment: [String: String] = ProcessInfo.processInfo.environment,
        file: String? = nil
    ) async throws -> AppConfig {
        var providers: [any ConfigProvider] = [
            InMemoryProvider(name: "flags", values: overrides),
            EnvironmentVariablesProvider(environmentVariables: environment).prefixKeys(with: "mapdepot"),
        ]
        if let file {
            let location = ConfigReader(provider: InMemoryProvider(values: ["filePath": ConfigValue(.string(file), isSecret: false)]))
            providers.append(try await FileProvider<JSONSnapshot>(config: location))
        }
        return AppConfig(reader: ConfigReader(providers: providers))
    }
}
