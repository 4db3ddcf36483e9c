import Configuration
import Foundation

/// Every setting of MapDepot, decoded once from flags, environment (`MAPDEPOT_…`) and an optional JSON
/// file, in that order of precedence, then passed down as a value. Nothing reads the environment later.
///
/// Grouped by concern (issue #10), each default stated once, here: the components build the domains' settings from
/// these values.
public struct AppConfig: Sendable {
    /// The HTTP server and what it accepts.
    public struct HTTP: Sendable {
        public var host = "127.0.0.1"
        public var port = 8080
        /// The base of artifact URLs; default `http://{host}:{port}`.
        public var publicURL: String?
        /// Request bodies above this size are refused with 413.
        public var maxBodyBytes = 5 * 1024 * 1024
        /// A `POST /layers/{id}/changes` body above this size is refused with 413; it is read as it arrives, and
        /// `maxBodyBytes` bounds each of its features instead (issue #15).
        public var maxChangeSetBytes = 512 * 1024 * 1024
        /// An HTTP connection that sends nothing for this long (a request's headers or body included) is closed.
        public var idleTimeoutSeconds: Double = 30
        /// Requests a second one token may send to this node on average (429 with `Retry-After` beyond); 0 turns it off.
        public var rateLimitPerSecond: Double = 500
        /// How many requests one token may send at once before the average applies.
        public var rateLimitBurst: Double = 1_000
    }

    /// Where the state lives.
    public struct Database: Sendable {
        /// `postgres://user:password@host:port/database`: state in PostgreSQL instead of SQLite.
        public var url: String?
        /// PostgreSQL: how long one statement or transaction may take, the wait for a connection included, before the
        /// request answers 503 (a restart or outage; without a bound they waited for good, issue #9).
        public var timeoutSeconds: Double = 60
    }

    /// Export admission, packaging, expiry and archive.
    public struct Export: Sendable {
        /// Requests covering more tiles are refused with 422.
        public var maxTiles = 10_000_000
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
        /// PENDING + IN_PROGRESS + PAUSED tasks per customer (429 beyond).
        public var maxActiveTasksPerCustomer = 20
        /// Bytes kept free on the artifact store besides running exports' needs (507 below).
        public var storageReserveBytes: Int64 = 0
        /// Finished tasks are archived after this many days.
        public var archiveAfterDays = 90
        /// How often expiry and archive run.
        public var sweepSeconds: Double = 60
        /// Tiles a second one export may write at most; 0: no limit (shared storage other users need; the demo).
        public var maxTilesPerSecond: Double = 0
    }

    /// The export worker of this process.
    public struct Worker: Sendable {
        /// Run the export worker inside `serve`.
        public var run = true
        /// Export tasks run at once by this process.
        public var concurrency = 2
        /// How long an idle worker waits for a job notification before it looks for work anyway.
        public var pollSeconds: Double = 1
        /// How long a node holds a job without renewing its lease (takeover delay when a node dies).
        public var leaseSeconds: Double = 30
    }

    /// The webhook outbox.
    public struct Webhooks: Sendable {
        /// Run the webhook dispatcher and the sweeper inside `serve`.
        public var runDispatcher = true
        /// How long a webhook delivery is retried.
        public var retryBudgetSeconds: Double = 86_400
        /// The first retry's delay; each next one doubles, up to an hour, with jitter.
        public var firstRetrySeconds: Double = 2
        /// A webhook call's timeout; a claimed delivery falls due again 5 s after it (a dispatcher that died).
        public var timeoutSeconds = 10
        /// Webhook URLs on loopback or private networks are refused unless this is true.
        public var allowPrivateNetworks = false
        /// TASK_IN_PROGRESS at most this often per task.
        public var progressIntervalSeconds: Double = 10
    }

    /// Replica production and its schedule.
    public struct Replication: Sendable {
        /// Run the replica scheduler inside `serve`.
        public var runScheduler = true
        /// Features (or deleted ids) per GeoJSON file in a replica zip.
        public var featuresPerFile = 10_000
        /// Hard cap on a replica zip's size.
        public var maxZipBytes: Int64 = 500_000_000
        /// libdeflate's compression level for replica zips, 1–12 (issue #15).
        public var zipLevel = 6
        /// The scheduler's delta cadence: a delta when the layer changed and the last is this old.
        public var deltaIntervalSeconds: Double = 60
        /// The scheduler's snapshot cadence.
        public var snapshotIntervalSeconds: Double = 86_400
        /// How long a node holds a replica chain's production lease.
        public var chainLeaseSeconds: Double = 600
        /// How often the scheduler looks for due replicas.
        public var schedulerCheckSeconds: Double = 5
        /// Replicas and history older than this are pruned (issue #14), keeping the newest snapshot and what follows it;
        /// 0 keeps everything.
        public var retentionDays: Double = 30
        /// The object store registered replicas' files are in (replica-server's `objectStorage`: protocol, host,
        /// port, optional project id), for their URLs.
        public var objectStorageProtocol = "http"
        public var objectStorageHost = "localhost"
        public var objectStoragePort = 9000
        public var objectStorageProjectId: String?
    }

    /// Where artifacts are published.
    public struct Artifacts: Sendable {
        /// A directory (default `{data.dir}/artifacts`; a shared mount in a cluster) or `s3://bucket/prefix` for an
        /// S3-compatible object store.
        public var location: String?
        /// Where files are built before an S3 upload (this node's disk); default `{data.dir}/staging`.
        public var stagingDir: String?
        public var s3 = S3()
    }

    /// An S3-compatible object store.
    public struct S3: Sendable {
        /// The endpoint URL (`http(s)://host[:port]`); default AWS's for the region.
        public var endpoint: String?
        public var region = "us-east-1"
        public var accessKey = ""
        public var secretKey = ""
        /// `{endpoint}/{bucket}/{key}` (MinIO, Ceph, moto) rather than `{bucket}.{host}/{key}` (AWS).
        public var pathStyle = true
        /// `redirect` (307 to a pre-signed URL) or `stream` (bytes through MapDepot).
        public var downloads = "redirect"
        public var partBytes = 16 * 1024 * 1024
        public var uploadConcurrency = 4
        public var presignSeconds = 900
        /// A request S3 answers 5xx/429 to is tried this many times, the pauses doubling from the first (capped at 20 s).
        public var retryAttempts = 8
        public var retryDelayMilliseconds = 200
    }

    /// The web tool's files (issue #11).
    public struct UI: Sendable {
        /// Our pages, scripts and styles (the repository's `Web/`).
        public var dir = "Web"
        /// Leaflet, as Debian's `libjs-leaflet` installs it.
        public var leafletDir = "/usr/share/javascript/leaflet"
        /// The API document served at `/docs/openapi.{json,yaml}` (the repository's `Docs/openapi.yaml`).
        public var openAPIDocument = "Docs/openapi.yaml"
    }

    /// State database (SQLite) and artifacts live here.
    public var dataDir = "./data"
    public var logLevel = "info"
    /// On SIGTERM/SIGINT running exports stop at their next checkpoint; after this long they are cancelled.
    public var shutdownGraceSeconds: Double = 30
    /// Failpoints for crash tests (`debug.crash.at`, e.g. `tiles:300`); never set in deployments.
    public var crashAt: String?
    public var http = HTTP()
    public var database = Database()
    public var export = Export()
    public var worker = Worker()
    public var webhooks = Webhooks()
    public var replication = Replication()
    public var artifacts = Artifacts()
    public var ui = UI()

    public init() {}

    public var databasePath: String { "\(dataDir)/mapdepot.sqlite" }
    /// The artifact location in effect: the setting, or the data directory's `artifacts` folder.
    public var artifactLocation: String { artifacts.location ?? "\(dataDir)/artifacts" }
    public var stagingPath: String { artifacts.stagingDir ?? "\(dataDir)/staging" }
    public var baseURL: String { http.publicURL ?? "http://\(http.host == "0.0.0.0" ? "127.0.0.1" : http.host):\(http.port)" }
}

extension AppConfig {
    /// Reads the settings. Keys (JSON file members nest on the dots; environment variables are
    /// `MAPDEPOT_` + the key in upper case with `_` for `.`): `host`, `port`, `data.dir`, `database.url`, `public.url`,
    /// `export.max.tiles`, `http.max.body.bytes`, `http.max.change.set.bytes`, `worker.concurrency`, `export.read.concurrency`,
    /// `export.expiry.days`, `export.estimate.tiles.per.second`, `export.max.list.limit`, `log.level`,
    /// `replication.features.per.file`, `replication.zip.max.bytes`, `replication.zip.level`, `replication.delta.interval.seconds`,
    /// `replication.snapshot.interval.seconds`, `replication.scheduler.check.seconds`,
    /// `webhooks.retry.budget.seconds`, `webhooks.first.retry.seconds`, `webhooks.timeout.seconds`, `webhooks.allow.private.networks`,
    /// `webhooks.progress.interval.seconds`, `export.max.active.tasks.per.customer`, `export.storage.reserve.bytes`,
    /// `export.archive.after.days`, `export.sweep.interval.seconds`, `export.lease.seconds`, `worker.poll.seconds`, `export.write.batch`, `debug.crash.at`,
    /// `artifacts.location`, `artifacts.staging`, `artifacts.s3.endpoint`, `artifacts.s3.region`, `artifacts.s3.access.key`,
    /// `artifacts.s3.secret.key`, `artifacts.s3.path.style`, `artifacts.s3.downloads`, `artifacts.s3.part.bytes`,
    /// `artifacts.s3.upload.concurrency`, `artifacts.s3.presign.seconds`, `artifacts.s3.retry.attempts`,
    /// `artifacts.s3.retry.delay.ms`, `shutdown.grace.seconds`, `http.idle.timeout.seconds`,
    /// `http.rate.limit.per.second`, `http.rate.limit.burst`, `database.timeout.seconds`, `ui.dir`, `ui.leaflet.dir`, `docs.openapi`, `export.max.tiles.per.second`,
    /// `replication.object.storage.protocol`, `replication.object.storage.host`, `replication.object.storage.port`,
    /// `replication.object.storage.project.id`.
    public init(reader: ConfigReader) {
        var config = AppConfig()
        config.http.host = reader.string(forKey: "host", default: config.http.host)
        config.http.port = reader.int(forKey: "port", default: config.http.port)
        config.dataDir = reader.string(forKey: "data.dir", default: config.dataDir)
        config.database.url = reader.string(forKey: "database.url")
        config.database.timeoutSeconds = reader.double(forKey: "database.timeout.seconds", default: config.database.timeoutSeconds)
        config.http.publicURL = reader.string(forKey: "public.url")
        config.export.maxTiles = reader.int(forKey: "export.max.tiles", default: config.export.maxTiles)
        config.http.maxBodyBytes = reader.int(forKey: "http.max.body.bytes", default: config.http.maxBodyBytes)
        config.http.maxChangeSetBytes = reader.int(forKey: "http.max.change.set.bytes", default: config.http.maxChangeSetBytes)
        config.worker.concurrency = reader.int(forKey: "worker.concurrency", default: config.worker.concurrency)
        config.export.readConcurrency = reader.int(forKey: "export.read.concurrency", default: config.export.readConcurrency)
        config.export.writeBatch = reader.int(forKey: "export.write.batch", default: config.export.writeBatch)
        config.worker.leaseSeconds = reader.double(forKey: "export.lease.seconds", default: config.worker.leaseSeconds)
        config.worker.pollSeconds = reader.double(forKey: "worker.poll.seconds", default: config.worker.pollSeconds)
        config.export.expiryDays = reader.int(forKey: "export.expiry.days", default: config.export.expiryDays)
        config.export.estimateTilesPerSecond = reader.double(
            forKey: "export.estimate.tiles.per.second", default: config.export.estimateTilesPerSecond
        )
        config.export.maxListLimit = reader.int(forKey: "export.max.list.limit", default: config.export.maxListLimit)
        config.logLevel = reader.string(forKey: "log.level", default: config.logLevel)
        config.replication.featuresPerFile = reader.int(forKey: "replication.features.per.file", default: config.replication.featuresPerFile)
        config.replication.maxZipBytes = Int64(reader.int(forKey: "replication.zip.max.bytes", default: Int(config.replication.maxZipBytes)))
        config.replication.zipLevel = reader.int(forKey: "replication.zip.level", default: config.replication.zipLevel)
        config.replication.deltaIntervalSeconds = reader.double(forKey: "replication.delta.interval.seconds", default: config.replication.deltaIntervalSeconds)
        config.replication.retentionDays = reader.double(forKey: "replication.retention.days", default: config.replication.retentionDays)
        config.webhooks.retryBudgetSeconds = reader.double(forKey: "webhooks.retry.budget.seconds", default: config.webhooks.retryBudgetSeconds)
        config.webhooks.firstRetrySeconds = reader.double(forKey: "webhooks.first.retry.seconds", default: config.webhooks.firstRetrySeconds)
        config.webhooks.timeoutSeconds = reader.int(forKey: "webhooks.timeout.seconds", default: config.webhooks.timeoutSeconds)
        config.webhooks.allowPrivateNetworks = reader.bool(forKey: "webhooks.allow.private.networks", default: config.webhooks.allowPrivateNetworks)
        config.webhooks.progressIntervalSeconds = reader.double(forKey: "webhooks.progress.interval.seconds", default: config.webhooks.progressIntervalSeconds)
        config.export.maxActiveTasksPerCustomer = reader.int(forKey: "export.max.active.tasks.per.customer", default: config.export.maxActiveTasksPerCustomer)
        config.export.storageReserveBytes = Int64(reader.int(forKey: "export.storage.reserve.bytes", default: Int(config.export.storageReserveBytes)))
        config.export.archiveAfterDays = reader.int(forKey: "export.archive.after.days", default: config.export.archiveAfterDays)
        config.export.sweepSeconds = reader.double(forKey: "export.sweep.interval.seconds", default: config.export.sweepSeconds)
        config.export.maxTilesPerSecond = reader.double(forKey: "export.max.tiles.per.second", default: config.export.maxTilesPerSecond)
        config.crashAt = reader.string(forKey: "debug.crash.at")
        config.http.rateLimitPerSecond = reader.double(forKey: "http.rate.limit.per.second", default: config.http.rateLimitPerSecond)
        config.http.rateLimitBurst = reader.double(forKey: "http.rate.limit.burst", default: config.http.rateLimitBurst)
        config.shutdownGraceSeconds = reader.double(forKey: "shutdown.grace.seconds", default: config.shutdownGraceSeconds)
        config.http.idleTimeoutSeconds = reader.double(forKey: "http.idle.timeout.seconds", default: config.http.idleTimeoutSeconds)
        config.replication.chainLeaseSeconds = reader.double(forKey: "replication.chain.lease.seconds", default: config.replication.chainLeaseSeconds)
        config.replication.schedulerCheckSeconds = reader.double(forKey: "replication.scheduler.check.seconds", default: config.replication.schedulerCheckSeconds)
        config.replication.snapshotIntervalSeconds = reader.double(
            forKey: "replication.snapshot.interval.seconds", default: config.replication.snapshotIntervalSeconds
        )
        config.replication.objectStorageProtocol = reader.string(
            forKey: "replication.object.storage.protocol", default: config.replication.objectStorageProtocol
        )
        config.replication.objectStorageHost = reader.string(forKey: "replication.object.storage.host", default: config.replication.objectStorageHost)
        config.replication.objectStoragePort = reader.int(forKey: "replication.object.storage.port", default: config.replication.objectStoragePort)
        config.replication.objectStorageProjectId = reader.string(forKey: "replication.object.storage.project.id")
        config.ui.dir = reader.string(forKey: "ui.dir", default: config.ui.dir)
        config.ui.leafletDir = reader.string(forKey: "ui.leaflet.dir", default: config.ui.leafletDir)
        config.ui.openAPIDocument = reader.string(forKey: "docs.openapi", default: config.ui.openAPIDocument)
        config.artifacts.location = reader.string(forKey: "artifacts.location")
        config.artifacts.stagingDir = reader.string(forKey: "artifacts.staging")
        config.artifacts.s3.endpoint = reader.string(forKey: "artifacts.s3.endpoint")
        config.artifacts.s3.region = reader.string(forKey: "artifacts.s3.region", default: config.artifacts.s3.region)
        config.artifacts.s3.accessKey = reader.string(forKey: "artifacts.s3.access.key", default: config.artifacts.s3.accessKey)
        config.artifacts.s3.secretKey = reader.string(forKey: "artifacts.s3.secret.key", isSecret: true, default: config.artifacts.s3.secretKey)
        config.artifacts.s3.pathStyle = reader.bool(forKey: "artifacts.s3.path.style", default: config.artifacts.s3.pathStyle)
        config.artifacts.s3.downloads = reader.string(forKey: "artifacts.s3.downloads", default: config.artifacts.s3.downloads)
        config.artifacts.s3.partBytes = reader.int(forKey: "artifacts.s3.part.bytes", default: config.artifacts.s3.partBytes)
        config.artifacts.s3.uploadConcurrency = reader.int(forKey: "artifacts.s3.upload.concurrency", default: config.artifacts.s3.uploadConcurrency)
        config.artifacts.s3.presignSeconds = reader.int(forKey: "artifacts.s3.presign.seconds", default: config.artifacts.s3.presignSeconds)
        config.artifacts.s3.retryAttempts = reader.int(forKey: "artifacts.s3.retry.attempts", default: config.artifacts.s3.retryAttempts)
        config.artifacts.s3.retryDelayMilliseconds = reader.int(forKey: "artifacts.s3.retry.delay.ms", default: config.artifacts.s3.retryDelayMilliseconds)
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
