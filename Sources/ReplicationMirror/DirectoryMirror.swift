import Foundation
import JSONValues
import MapDepotCore
import ReplicationClient
import ReplicationCore

/// A local copy as plain files (issue #14: `--into DIR`): one GeoJSON FeatureCollection of the layer's features, one
/// canonical feature per line, and `mirror.json` naming that file with the cursor. A replica writes a new data file
/// (synced), then replaces `mirror.json` by rename, then removes the old file: whatever is killed when, `mirror.json`
/// names a whole file that matches its cursor.
public struct DirectoryMirror: MirrorTarget {
    let directory: String
    let crashPoints: CrashPoints

    public init(directory: String, crashPoints: CrashPoints = .none) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.directory = directory
        self.crashPoints = crashPoints
    }

    var statePath: String { "\(directory)/mirror.json" }

    public func cursor() async throws -> MirrorCursor? {
        try await Offload.run { try self.state()?.cursor }
    }

    public func replace(with content: ReplicaContent, cursor: MirrorCursor) async throws {
        try await Offload.run {
            var features: [String: String] = [:]
            var hash = LayerHash()
            for feature in content.upserts {
                let text = feature.state.featureText()
                features[feature.state.id] = text
                hash.toggle(text)
            }
            try cursor.check(hash)
            try self.write(features, cursor: cursor, replacing: self.state()?.data)
        }
    }

    public func apply(_ content: ReplicaContent, cursor: MirrorCursor) async throws {
        try await Offload.run {
            // A copy that started empty (no snapshot on the server yet) has no state before its first delta.
            let state = try self.state() ?? (MirrorCursor.empty(layerId: cursor.layerId, geometryType: cursor.geometryType), nil)
            var features = try state.data.map { try self.features(in: $0) } ?? [:]
            var hash = state.cursor.layerHash.flatMap(LayerHash.init(hex:))
            for id in content.deletions {
                if let old = features.removeValue(forKey: id) { hash?.toggle(old) }
            }
            for feature in content.upserts {
                let text = feature.state.featureText()
                if let old = features.updateValue(text, forKey: feature.state.id) { hash?.toggle(old) }
                hash?.toggle(text)
            }
            if let hash { try cursor.check(hash) }
            try self.write(features, cursor: cursor, replacing: state.data)
        }
    }

    public func storedFeatures() async throws -> [String: String] {
        try await Offload.run { try self.state()?.data.map { try self.features(in: $0) } ?? [:] }
    }

    public func count() async throws -> Int {
        try await Offload.run { try self.state()?.data.map { try self.features(in: $0).count } ?? 0 }
    }

    // MARK: - Files

    private func state() throws -> (cursor: MirrorCursor, data: String?)? {
        guard FileManager.default.fileExists(atPath: statePath) else { return nil }
        let json = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: statePath)))
        guard let object = json.objectValue, let layer = object["layerId"]?.numberValue,
            let type = object["geometryType"]?.stringValue.flatMap(GeometryType.init(rawValue:)),
            let change = object["changeSequence"]?.numberValue, let delta = object["deltaSequence"]?.numberValue
        else { throw SyncError.protocolViolation("\(statePath) is not a mirror state this tool wrote") }
        let cursor = MirrorCursor(
            layerId: Int(layer), geometryType: type, sourceId: object["sourceId"]?.stringValue.flatMap(UUID.init(uuidString:)),
            changeSequence: Int(change), deltaSequence: Int(delta), snapshotSequence: object["snapshotSequence"]?.numberValue.map { Int($0) },
            layerHash: object["layerHash"]?.stringValue, replicaTimestamp: object["replicaTimestamp"]?.stringValue.flatMap(Timestamp.rfc3339)
        )
        return (cursor, object["data"]?.stringValue)
    }

    /// id → canonical feature text, from a data file this type wrote.
    private func features(in name: String) throws -> [String: String] {
        let text = try String(contentsOfFile: "\(directory)/\(name)", encoding: .utf8)
        var result: [String: String] = [:]
        for line in text.split(separator: "\n").dropFirst() where line.hasPrefix("{") {
            let feature = line.hasSuffix(",") ? String(line.dropLast()) : String(line)
            guard let id = try JSONValue.parse(Data(feature.utf8)).objectValue?["id"]?.stringValue else {
                throw SyncError.protocolViolation("\(name) holds a feature without a string id")
            }
            result[id] = feature
        }
        return result
    }

    private func write(_ features: [String: String], cursor: MirrorCursor, replacing old: String?) throws {
        let name = "features-\(UUID().uuidString.lowercased()).geojson"
        var body = #"{"type":"FeatureCollection","features":["# + "\n"
        body += features.keys.sorted().map { features[$0]! }.joined(separator: ",\n")
        body += "\n]}\n"
        try Self.writeSynced(Data(body.utf8), to: "\(directory)/\(name)")
        crashPoints.check("sync-apply", reached: features.count)
        var state: [String: JSONValue] = [
            "layerId": .number(Double(cursor.layerId)), "geometryType": .string(cursor.geometryType.rawValue),
            "changeSequence": .number(Double(cursor.changeSequence)), "deltaSequence": .number(Double(cursor.deltaSequence)), "data": .string(name),
            "features": .number(Double(features.count)),
        ]
        state["sourceId"] = cursor.sourceId.map { .string($0.uuidString.lowercased()) }
        state["snapshotSequence"] = cursor.snapshotSequence.map { .number(Double($0)) }
        state["layerHash"] = cursor.layerHash.map(JSONValue.string)
        state["replicaTimestamp"] = cursor.replicaTimestamp.map { .string(Timestamp.string($0)) }
        let temporary = statePath + ".tmp"
        try Self.writeSynced(Data(CanonicalJSON.text(.object(state)).utf8), to: temporary)
        guard rename(temporary, statePath) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        if let old { try? FileManager.default.removeItem(atPath: "\(directory)/\(old)") }
        // Data files a killed run left behind (written, never named by mirror.json).
        for stray in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        where stray.hasPrefix("features-") && stray != name {
            try? FileManager.default.removeItem(atPath: "\(directory)/\(stray)")
        }
    }

    private static func writeSynced(_ data: Data, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw SyncError.protocolViolation("\(path) cannot be written")
        }
        defer { try? handle.close() }
        try handle.write(contentsOf: data)
        try handle.synchronize()
    }
}
