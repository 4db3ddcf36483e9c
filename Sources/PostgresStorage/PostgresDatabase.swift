import Foundation
import Logging
import MapDepotCore
import PostgresNIO

/// MapDepot's state in PostgreSQL: one database shared by every node.
///
/// The client is a connection pool that must be running (``run()``) before queries; the schema is created and
/// migrated by ``migrate()`` under a transaction-scoped advisory lock, so nodes starting at the same moment
/// apply each migration once.
public struct PostgresDatabase: Sendable, HealthCheck {
    public let client: PostgresClient
    let logger: Logger
    /// How long one statement or transaction may take, the wait for a pooled connection included, before it fails as
    /// ``PostgresTimeout`` (503). postgres-nio's pool waits for a connection without limit, and a query written to a
    /// connection the server has just closed is never answered (see ``Deadline``): without a bound, a PostgreSQL
    /// restart or outage held requests, worker slots and shutdown for good (issue #9). Config `database.timeout.seconds`.
    public let operationTimeout: Duration
    private let watchdog = Watchdog()

    /// - Parameter url: `postgres://user:password@host:port/database`.
    public init(url: String, operationTimeout: Duration = .seconds(60), logger: Logger) throws {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? ""),
            let host = components.host
        else {
            throw ServiceError.invalid("database URL \(Self.redacted(url)) is not postgres://user:password@host:port/database")
        }
        let database = components.path.split(separator: "/").first.map(String.init) ?? "postgres"
        var configuration = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: components.user ?? "postgres", password: components.password,
            database: database, tls: .disable
        )
        configuration.options.maximumConnections = 20
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.logger = logger
        self.operationTimeout = operationTimeout
    }

    /// The URL with its password replaced by `***`, for messages and logs (issue #9: it was printed in full).
    public static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else {
            // Not parseable: keep only what precedes a possible credential.
            if let at = url.lastIndex(of: "@"), let scheme = url.range(of: "://") { return url[..<scheme.upperBound] + "***@" + url[url.index(after: at)...] }
            return url
        }
        components.password = "***"
        return components.string ?? url
    }

    /// Runs `body` in a transaction, within ``operationTimeout``. An error thrown inside comes out as itself
    /// (postgres-nio wraps it in `PostgresTransactionError`), so domain errors keep their meaning and unique violations
    /// can be retried.
    public func transaction<Result: Sendable>(
        within limit: Duration? = nil, _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await bounded(within: limit) { [client, logger] in
            do {
                return try await client.withTransaction(logger: logger) { connection in try await body(connection) }
            } catch let error as PostgresTransactionError {
                throw error.closureError ?? error.beginError ?? error.commitError ?? error
            }
        }
    }

    /// Runs one statement on a pooled connection, within ``operationTimeout`` (until its first answer: the rows
    /// that follow come over a connection that fails them if it closes).
    @discardableResult
    public func query(_ query: PostgresQuery, logger: Logger, within limit: Duration? = nil) async throws -> PostgresRowSequence {
        try await bounded(within: limit) { [client] in try await client.query(query, logger: logger) }
    }

    private func bounded<T: Sendable>(within limit: Duration? = nil, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let limit = limit ?? operationTimeout
        return try await watchdog.run(within: limit, timeoutError: { PostgresTimeout(limit: limit) }, body)
    }

    /// Runs the pool, and the watchdog that bounds every operation, until cancelled.
    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await client.run() }
            group.addTask { await watchdog.watch() }
        }
    }

    /// Readiness: a probe must be answered in time (Kubernetes' default probe timeout is 1 s), so 2 s at most
    /// whatever the operation timeout, not the pool's wait for a server that is away.
    public func check() async throws {
        try await query("SELECT 1", logger: logger, within: min(operationTimeout, .seconds(2)))
    }

    /// Applies the migrations this database has not seen, in order, once, whatever else starts at once: within
    /// 10 minutes at least (a migration may rewrite a large table; nodes starting together wait for each other's).
    public func migrate() async throws {
        try await transaction(within: max(operationTimeout, .seconds(600))) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(784512301)", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)", logger: logger
            )
            var applied = Set<String>()
            for try await version in try await connection.query("SELECT version FROM schema_migrations", logger: logger).decode(String.self) {
                applied.insert(version)
            }
            for (version, statements) in PostgresSchema.migrations where !applied.contains(version) {
                for statement in statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (\(version), \(Timestamp.string(Date())))", logger: logger
                )
            }
        }
    }

    /// A random 32-byte secret stored under `name`, made once for every node.
    public func secret(named name: String) async throws -> Data {
        let candidate = Hex.encode((0..<32).map { _ in UInt8.random(in: 0...255) })
        try await query(
            "INSERT INTO settings (name, value) VALUES (\(name), \(candidate)) ON CONFLICT (name) DO NOTHING", logger: logger
        )
        let rows = try await query("SELECT value FROM settings WHERE name = \(name)", logger: logger)
        for try await hex in rows.decode(String.self) {
            return Hex.decode(hex)
        }
        throw StorageFailure("secret \(name) could not be stored")
    }
}

/// A PostgreSQL operation that did not end within ``PostgresDatabase/operationTimeout``: the server is away or
/// restarting (503, like a refused connection).
public struct PostgresTimeout: Error, StorageConditionReporting, CustomStringConvertible {
    public var limit: Duration
    public var storageCondition: StorageCondition? { .unreachable }
    public var description: String { "PostgreSQL did not answer within \(limit)" }
}
