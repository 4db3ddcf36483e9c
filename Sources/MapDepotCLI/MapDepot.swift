import ArgumentParser
import Foundation
import GeoJSON
import JSONValues
import MapDepotCore

/// `mapdepot`: the server and its tools in one binary.
@main
struct MapDepot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mapdepot",
        abstract: "MapDepot: map data export (GeoPackage) and replication server.",
        subcommands: [Serve.self, WorkerCommand.self, TokenCommand.self, CatalogCommand.self, ExportCommand.self, LayerCommand.self, ReplicateCommand.self]
    )

    /// ArgumentParser's own `main`, with errors said in plain words (issue #9: `Error Domain=NSCocoaErrorDomain
    /// Code=260 …`).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: PlainError(error) ?? error)
        }
    }
}

/// An error as a person reads it; nil for errors ArgumentParser already words (usage, help, exit codes).
struct PlainError: Error, CustomStringConvertible {
    let description: String

    init?(_ error: any Error) {
        if let error = error as? ServiceError {
            description = error.message
        } else if let error = error as? GeoJSONError {
            description = error.description
        } else if let error = error as? CocoaError {
            let path = (error.userInfo[NSFilePathErrorKey] as? String) ?? (error.userInfo[NSURLErrorKey] as? URL)?.path ?? "the file"
            switch error.code {
            case .fileReadNoSuchFile, .fileNoSuchFile: description = "\(path) does not exist"
            case .fileReadNoPermission, .fileWriteNoPermission: description = "\(path): permission denied"
            case .fileWriteOutOfSpace: description = "\(path): no space left on the device"
            case .fileReadCorruptFile: description = "\(path) cannot be read as expected"
            default: description = "\(path): \(error.localizedDescription)"
            }
        } else if let error = error as? POSIXError {
            description = String(cString: strerror(error.code.rawValue))
        } else {
            return nil
        }
    }
}
