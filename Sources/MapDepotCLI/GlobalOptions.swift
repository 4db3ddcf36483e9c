import ArgumentParser
import Configuration
import Foundation
import Logging
import MapDepotAPI

/// Options every subcommand that touches state accepts; they override `MAPDEPOT_…` variables and the file.
struct GlobalOptions: ParsableArguments {
    @Option(help: "A JSON configuration file.")
    var config: String?

    @Option(help: "Directory for state and artifacts (default ./data; env MAPDEPOT_DATA_DIR).")
    var dataDir: String?

    @Option(help: "PostgreSQL for state instead of SQLite: postgres://user:password@host:port/database (env MAPDEPOT_DATABASE_URL).")
    var databaseURL: String?

    @Option(help: "Where artifacts are published: a directory or s3://bucket/prefix (env MAPDEPOT_ARTIFACTS_LOCATION; S3 settings: artifacts.s3.*).")
    var artifacts: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    /// The settings, with these flags (and `extra`) on top.
    func load(extra: [AbsoluteConfigKey: ConfigValue] = [:]) async throws -> AppConfig {
        var overrides = extra
        if let dataDir { overrides[AbsoluteConfigKey(["data", "dir"])] = ConfigValue(.string(dataDir), isSecret: false) }
        if let databaseURL { overrides[AbsoluteConfigKey(["database", "url"])] = ConfigValue(.string(databaseURL), isSecret: true) }
        if let artifacts { overrides[AbsoluteConfigKey(["artifacts", "location"])] = ConfigValue(.string(artifacts), isSecret: false) }
        if let logLevel { overrides[AbsoluteConfigKey(["log", "level"])] = ConfigValue(.string(logLevel), isSecret: false) }
        return try await AppConfig.load(overrides: overrides, file: config)
    }

    /// Logs go to standard error, so that standard output stays for results (a token, JSON).
    func logger(_ config: AppConfig) -> Logger {
        var logger = Logger(label: "mapdepot") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = Logger.Level(rawValue: config.logLevel) ?? .info
        return logger
    }
}
