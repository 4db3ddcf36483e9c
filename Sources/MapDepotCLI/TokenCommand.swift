import ArgumentParser
import ExportCore
import Foundation
import GeoJSON
import JSONValues
import MapDepotAPI
import MapDepotCore

/// `mapdepot token create|list|revoke`: issues an API token and prints it alone on standard output; lists tokens
/// (never the tokens themselves); revokes one by its id.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Manage API tokens.", subcommands: [Create.self, List.self, Revoke.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens: id, subject, scopes, created, expires, last used.")

        @OptionGroup var global: GlobalOptions

        @Flag(help: "Print JSON instead of a table.")
        var json = false

        func run() async throws {
            let config = try await global.load()
            let components = try await MapDepotComponents.open(config: config, logger: global.logger(config))
            defer { components.close() }
            let tokens = try await components.tokens.list()
            if json {
                print(CanonicalJSON.text(.array(tokens.map(\.json))))
                return
            }
            print(["ID", "SUBJECT", "SCOPES", "CREATED", "EXPIRES", "LAST USED"].joined(separator: "\t"))
            for token in tokens {
                print(
                    [
                        token.id, token.subject, token.scopes.map(\.rawValue).sorted().joined(separator: ","), Timestamp.string(token.createdAt),
                        token.expiresAt.map(Timestamp.string) ?? "never", token.lastUsedAt.map(Timestamp.string) ?? "never",
                    ].joined(separator: "\t")
                )
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by the id `token list` shows.")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The token's id (16 hexadecimal digits).")
        var id: String

        func run() async throws {
            let config = try await global.load()
            let components = try await MapDepotComponents.open(config: config, logger: global.logger(config))
            defer { components.close() }
            try await components.tokens.revoke(id: id)
            print("revoked \(id)")
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token; only its hash is stored.")

        @OptionGroup var global: GlobalOptions

        @Option(help: "The customer the token stands for.")
        var subject: String

        @Option(help: "A scope: export, admin, replication:read, replication:write, export:trigger (repeatable).")
        var scope: [String] = ["export"]

        @Option(help: "Lifetime such as 30d, 12h, 90m or 3600s (default: no expiry).")
        var expiresIn: String?

        func run() async throws {
            let config = try await global.load()
            let components = try await MapDepotComponents.open(config: config, logger: global.logger(config))
            var scopes = Set<Scope>()
            for raw in scope {
                guard let value = Scope(rawValue: raw) else {
                    throw ValidationError("unknown scope \"\(raw)\" (export, admin, replication:read, replication:write, export:trigger)")
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
