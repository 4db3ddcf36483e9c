import ArgumentParser
import Foundation
import GeoJSON
import JSONValues
import MapDepotAPI
import MapDepotCore
import ReplicationCore

/// `mapdepot layer create|import|list|produce`: the same operations as `/layers` over HTTP.
struct LayerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layer", abstract: "Manage vector layers for replication.",
        subcommands: [Create.self, Import.self, List.self, Produce.self, Prune.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a layer; prints it as JSON.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Layer id (default: the next free one).") var layerId: Int?
        @Option(help: "Layer name.") var layerName: String
        @Option(help: "A geometry type: point, linestring, polygon (repeatable).") var geometryType: [String]

        func run() async throws {
            let config = try await global.load()
            let components = try await MapDepotComponents.open(config: config, logger: global.logger(config))
            let types = try geometryType.map { name in
                guard let type = GeometryType(rawValue: name.lowercased()) else {
                    throw ValidationError("geometry type \"\(name)\" is not one of \(GeometryType.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return type
            }
            let layer = try await components.replication.createLayer(LayerDraft(layerId: layerId, layerName: layerName, geometryTypes: Array(Set(types)).sorted()))
            print(try CLIOutput.json(layer.json))
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Bulk-load a GeoJSON FeatureCollection into a layer.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The layer to load into.") var layerId: Int
        @Flag(help: "Give every feature a new braced UUID id (else each needs a string id).") var assignIds = false
        @Option(help: "Features per change set.") var batch = 1_000
        @Argument(help: "A GeoJSON FeatureCollection file.") var file: String

        func run() async throws {
            let config = try await global.load()
            let components = try await MapDepotComponents.open(config: config, logger: global.logger(config))
            let collection = try FeatureCollection(json: try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: file))), path: file)
            var features = collection.features
            if assignIds {
                for index in features.indices { features[index].id = .string("{\(UUID().uuidString.lowercased())}") }
            }
            var last: ChangeResult?
            var start = 0
            while start < features.count {
                let chunk = Array(features[start..<min(features.count, start + max(1, batch))])
                last = try await components.replication.applyChanges(ChangeRequest(upserts: chunk), layerId: layerId)
                start += chunk.count
            }
            print("\(features.count) features loaded into layer \(layerId)\(last.map { ", sequence \($0.sequenceNumber)" } ?? "")")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List layers as GET /layers shows them.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let config = try await global.load()
            let components = try await MapDepotComponents.open(config: config, logger: global.logger(config))
            print(try CLIOutput.json(.array(try await components.replication.layers().map(\.json))))
        }
    }

    struct Produce: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Produce a snapshot or delta now; prints the replica id and files.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The layer.") var layerId: Int
        @Option(help: "point, linestring or polygon.") var geometryType: String
        @Option(help: "snapshot or delta.") var replicaType: String

        func run() async throws {
            let config = try await global.load()
            let components = try await MapDepotComponents.open(config: config, logger: global.logger(config))
            try await components.replication.producer.recover()
            guard let type = GeometryType(rawValue: geometryType), let kind = ReplicaType(rawValue: replicaType) else {
                throw ValidationError("geometry type \(geometryType) or replica type \(replicaType) is not known")
            }
            let replica = try await components.replication.produce(layerId: layerId, geometryType: type, replicaType: kind)
            print("\(replica.replicaType.rawValue) \(replica.replicaId.uuidString.lowercased()) #\(replica.sequenceNumber) change sequence \(replica.changeSequence)")
            for file in replica.files {
                print("  \(file.key)  \(file.size) bytes  \(file.features) features  \(file.deletions) deletions  sha256 \(file.sha256)")
            }
        }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Prune replicas and history older than replication.retention.days now (the scheduler does it every minute)."
        )
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let config = try await global.load()
            let components = try await MapDepotComponents.open(config: config, logger: global.logger(config))
            let report = try await components.retention.prune()
            print("\(report.replicas) replicas and \(report.versions) feature versions pruned (window \(config.replication.retentionDays) days)")
        }
    }
}
