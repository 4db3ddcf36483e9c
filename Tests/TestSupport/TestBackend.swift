import Foundation

/// The state backend the storage and HTTP tests run against: SQLite by default; PostgreSQL when
/// `MAPDEPOT_TEST_POSTGRES_URL` names a server (`.ci/run` starts a throw-away one and runs the suites twice).
public enum TestBackend {
    public static var postgresURL: String? {
        ProcessInfo.processInfo.environment["MAPDEPOT_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    public static var name: String { postgresURL == nil ? "SQLite" : "PostgreSQL" }

    /// A PostgreSQL server the store contract suites run against beside SQLite, in the same process (issue #10):
    /// `MAPDEPOT_TEST_POSTGRES_SERVER`, or the PostgreSQL pass's URL.
    public static var postgresServer: String? {
        ProcessInfo.processInfo.environment["MAPDEPOT_TEST_POSTGRES_SERVER"].flatMap { $0.isEmpty ? nil : $0 } ?? postgresURL
    }

    /// A new empty database for one test on the PostgreSQL server, or nil for SQLite.
    public static func freshDatabaseURL() async throws -> String? {
        guard postgresURL != nil else { return nil }
        return try await freshPostgresDatabase()
    }

    /// A new empty database for one test on ``postgresServer``.
    public static func freshPostgresDatabase() async throws -> String {
        guard let base = postgresServer, var components = URLComponents(string: base) else {
            throw FixtureError("no PostgreSQL server: MAPDEPOT_TEST_POSTGRES_SERVER is not set")
        }
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
        try await Shell.run("psql", [base, "-q", "-v", "ON_ERROR_STOP=1", "-c", "CREATE DATABASE \(name)"])
        components.path = "/\(name)"
        guard let url = components.string else { throw FixtureError("cannot name database \(name) on \(base)") }
        return url
    }
}

/// The S3-compatible server the S3 artifact store is tested against: `MAPDEPOT_TEST_S3_ENDPOINT`, set by `scripts/test`
/// after it starts moto's server on loopback (`scripts/s3-server start`).
public enum TestS3 {
    public static var endpoint: String? {
        ProcessInfo.processInfo.environment["MAPDEPOT_TEST_S3_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// ``endpoint``, or an error that says how to set it (for tests already enabled only when it is set).
    public static func requiredEndpoint() throws -> String {
        guard let endpoint else { throw FixtureError("MAPDEPOT_TEST_S3_ENDPOINT is not set") }
        return endpoint
    }

    /// A new bucket name for one test (3–63 lower-case letters, digits and hyphens).
    public static func freshBucket() -> String {
        "mapdepot-" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20)
    }
}
