import FileStorage
import Foundation
import GeoJSON
import JSONValues
import Logging
import MapDepotCore
import PostgresStorage
import ReplicationCore
import SQLiteStorage
import Synchronization
import TestSupport
import ZIPFoundation
import ZipPackaging

/// A real SQLite store, a real artifact directory and a producer, with a clock the test sets.
struct ReplicationHarness {
    let store: any ReplicationStore
    let artifacts: DirectoryArtifactStore
    let producer: ReplicaProducer
    let clock: TestClock
    let directory: String

    init(
        featuresPerFile: Int = 10_000, maxZipBytes: Int64 = 500_000_000, parallelism: Int = 1,
        packaging: ((DirectoryArtifactStore) -> any ReplicaPackaging)? = nil
    ) async throws {
        directory = try Fixtures.temporaryDirectory("replication")
        store = try await Self.backend(directory: directory)
        artifacts = try DirectoryArtifactStore(root: directory + "/artifacts")
        clock = TestClock()
        let packager = packaging?(artifacts) ?? ZipReplicaPackaging(artifacts: artifacts, featuresPerFile: featuresPerFile, maxZipBytes: maxZipBytes)
        producer = ReplicaProducer(store: store, packaging: packager, artifacts: artifacts, clock: clock, pageSize: 7, parallelism: parallelism, chainLease: 600)
    }

    /// The store of the backend under test (see ``TestBackend``).
    static func backend(directory: String) async throws -> any ReplicationStore {
        guard let url = try await TestBackend.freshDatabaseURL() else {
            return SQLiteReplicationStore(database: try await SQLiteDatabase.open(path: directory + "/state.sqlite"))
        }
        let database = try PostgresDatabase(url: url, logger: Logger(label: "test"))
        Task { await database.run() }
        try await database.migrate()
        return PostgresReplicationStore(database: database)
    }

    /// What a replica's zips hold: features by id (with `diff` when present) and deleted ids.
    func contents(_ replica: Replica) throws -> (features: [String: [String: JSONValue]], deleted: [String]) {
        var features: [String: [String: JSONValue]] = [:]
        var deleted: [String] = []
        for file in replica.files {
            guard let path = artifacts.localPath(for: file.key) else { throw FixtureError("missing \(file.key)") }
            let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
            for entry in archive {
                var data = Data()
                _ = try archive.extract(entry) { data.append($0) }
                let json = try JSONValue.parse(data)
                if entry.path.hasPrefix("deleted_") {
                    precondition(entry.path.hasSuffix(".json"))
                    deleted += (json.arrayValue ?? []).compactMap(\.stringValue)
                } else {
                    precondition(entry.path.hasSuffix(".geojson"))
                    guard json.objectValue?["type"] == .string("FeatureCollection") else { throw FixtureError("not a FeatureCollection: \(entry.path)") }
                    for feature in json.objectValue?["features"]?.arrayValue ?? [] {
                        let object = feature.objectValue ?? [:]
                        features[object["id"]?.stringValue ?? ""] = object
                    }
                }
            }
        }
        return (features, deleted)
    }
}

/// Fails after `limit` features: a producer dying mid-write.
struct FailingPackaging: ReplicaPackaging {
    let inner: any ReplicaPackaging
    let limit: Int

    func makeWriter(keyPrefix: String, alwaysWriteFeatureFile: Bool) throws -> any ReplicaWriter {
        FailingWriter(inner: try inner.makeWriter(keyPrefix: keyPrefix, alwaysWriteFeatureFile: alwaysWriteFeatureFile), limit: limit)
    }

    final class FailingWriter: ReplicaWriter {
        let inner: any ReplicaWriter
        let limit: Int
        let count = Mutex(0)
        init(inner: any ReplicaWriter, limit: Int) {
            self.inner = inner
            self.limit = limit
        }
        func add(feature: String) throws {
            if count.withLock({ $0 += 1; return $0 }) > limit { throw FixtureError("producer killed") }
            try inner.add(feature: feature)
        }
        func add(deletedId: String) throws { try inner.add(deletedId: deletedId) }
        func finish() async throws -> [ReplicaFile] { try await inner.finish() }
    }
}

func point(_ id: String, _ x: Double, _ y: Double, _ properties: [String: JSONValue] = [:]) -> Feature {
    Feature(id: .string(id), geometry: .point(Position(x, y)), properties: properties)
}

func square(_ id: String, _ x: Double, _ size: Double, _ properties: [String: JSONValue] = [:]) -> Feature {
    let ring = [Position(x, 0), Position(x, size), Position(x + size, size), Position(x + size, 0), Position(x, 0)]
    return Feature(id: .string(id), geometry: .polygon(PolygonCoordinates(rings: [ring])), properties: properties)
}

func changes(upserts: [Feature] = [], deletes: [String] = [], changeId: String? = nil) -> ChangeRequest {
    ChangeRequest(upserts: upserts, deletes: deletes, changeId: changeId)
}
