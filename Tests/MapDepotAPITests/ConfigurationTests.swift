import Configuration
import Foundation
import MapDepotAPI
import Testing
import TestSupport

/// Settings come from flags, then `MAPDEPOT_…` variables, then the JSON file, then defaults.
@Suite struct ConfigurationTests {
    @Test func flagsBeatEnvironmentBeatsFileBeatsDefaults() async throws {
        let directory = try Fixtures.temporaryDirectory("config")
        let file = directory + "/mapdepot.json"
        try Data(#"{"port": 9000, "host": "0.0.0.0", "data": {"dir": "/from/file"}, "export": {"max": {"tiles": 42}}, "webhooks": {"allow": {"private": {"networks": true}}}}"#.utf8)
            .write(to: URL(fileURLWithPath: file))
        let config = try await AppConfig.load(
            overrides: [AbsoluteConfigKey(["data", "dir"]): ConfigValue(.string("/from/flag"), isSecret: false)],
            environment: ["MAPDEPOT_PORT": "9100", "MAPDEPOT_WORKER_CONCURRENCY": "3", "PORT": "1"],
            file: file
        )
        #expect(config.dataDir == "/from/flag")
        #expect(config.http.port == 9100)
        #expect(config.http.host == "0.0.0.0")
        #expect(config.worker.concurrency == 3)
        #expect(config.export.maxTiles == 42)
        #expect(config.webhooks.allowPrivateNetworks)
        #expect(config.export.expiryDays == 30)
        #expect(config.baseURL == "http://127.0.0.1:9100")
        #expect(config.databasePath == "/from/flag/mapdepot.sqlite")
    }

    @Test func defaultsWithoutAnything() async throws {
        let config = try await AppConfig.load(environment: [:])
        #expect(config.http.host == "127.0.0.1" && config.http.port == 8080 && config.dataDir == "./data")
        #expect(config.export.maxTiles == 10_000_000 && config.http.maxBodyBytes == 5 * 1024 * 1024)
        #expect(config.replication.maxZipBytes == 500_000_000)
    }

    @Test func aMissingConfigFileIsAnError() async {
        await #expect(throws: (any Error).self) { try await AppConfig.load(environment: [:], file: "/nonexistent/mapdepot.json") }
    }
}
