import ArgumentParser
import ExportCore
import MapDepotCore
import Foundation
import MapDepotAPI

/// `mapdepot token create`: issues an API token and prints it alone on standard output.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Manage API tokens.", subcommands: [Create.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token; only its hash is stored.")

        @OptionGroup var global: GlobalOptions

        @Option(help: "The customer the token stands for.")
        var subject: String

        @Option(help: "A scope: export, admin, replication:read, replication:write (repeatable).")
        var scope: [String] = ["export"]

        @Option(help: "Lifetime such as 30d, 12h, 90m or 3600s (default: no expiry).")
        var expiresIn: String?

        func run() async throws {
            let config = try await global.load()
            let components = try await MapDepotComponents.open(config: config, logger: global.logger(config))
            var scopes = Set<Scope>()
            for raw in scope {
                guard let value = Scope(rawValue: raw) else {
                    throw ValidationError("unknown scope \"\(raw)\" (export, admin, replication:read, replication:write)")
                }
                scopes.insert(value)
            }
            let lifetime = try expiresIn.map(Self.duration)
            print(try await components.tokens.create(subject: subject, scopes: scopes, lifetime: lifetime))
        }

        static func duration(_ text: String) throws -> TimeInterval {
            let units: [Character: Double] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400]
            if let unit = text.last, let factor = units[unit], let value = Double(text.dropLast()), value > 0 {
                return value * factor
            }
            if let seconds = Double(text), seconds > 0 { return seconds }
            throw ValidationError("--expires-in \"\(text)\" is not a duration such as 30d, 12h, 90m or 3600s")
        }
    }
}
