import Foundation
import GeoJSON
import JSONValues
import MapDepotCore
import ReplicationCore

/// Replica zips (replication README "Files structure"): `<uuid>.geojson` FeatureCollections of at most
/// ``featuresPerFile`` features and `deleted_<uuid>.json` id arrays, deflated by libdeflate through our own
/// ``ZipFileWriter``, in zips that never exceed ``maxZipBytes`` — a hard cap, not an aim: an entry that would cross it
/// goes to the next zip (its compressed size is known before it is written); a file too large for an empty zip is split
/// in halves.
public struct ZipReplicaPackaging: ReplicaPackaging {
    let artifacts: any ArtifactStore
    public let featuresPerFile: Int
    public let maxZipBytes: Int64
    let crashPoints: CrashPoints
    let clock: any WallClock

    public init(
        artifacts: any ArtifactStore, featuresPerFile: Int = 10_000, maxZipBytes: Int64 = 500_000_000, crashPoints: CrashPoints = .none,
        clock: any WallClock = SystemClock()
    ) {
        self.artifacts = artifacts
        self.featuresPerFile = max(1, featuresPerFile)
        self.maxZipBytes = maxZipBytes
        self.crashPoints = crashPoints
        self.clock = clock
    }

    public func makeWriter(keyPrefix: String, alwaysWriteFeatureFile: Bool) throws -> any ReplicaWriter {
        try ZipReplicaWriter(
            artifacts: artifacts, keyPrefix: keyPrefix, featuresPerFile: featuresPerFile, maxZipBytes: maxZipBytes,
            alwaysWriteFeatureFile: alwaysWriteFeatureFile, crashPoints: crashPoints, modified: clock.now()
        )
    }
}

/// Writes one replica's zips. Used by one task from start to finish; the work is CPU-bound deflate and
/// writes to the page cache, handed by the producer to a thread off the cooperative pool one page at a time.
///
/// `@unchecked Sendable`: its mutable state (the open zip, its compressor, buffers, counts) is touched by one call at a time —
/// the producer awaits each page's offloaded work before it starts the next and calls ``finish()`` last — so no two
/// threads ever use it at once; a lock would only add cost to every feature.
final class ZipReplicaWriter: ReplicaWriter, @unchecked Sendable {
    private let artifacts: any ArtifactStore
    private let keyPrefix: String
    private let featuresPerFile: Int
    private let maxZipBytes: Int64
    private let alwaysWriteFeatureFile: Bool
    private let crashPoints: CrashPoints
    private let modified: Date
    private let compressor = ZipFileWriter.Compressor()
    private var filesWritten = 0

    private var features: [String] = []
    private var deletions: [String] = []
    private var wroteFeatureFile = false

    /// The zip being filled, with its counts.
    private var archive: ZipFileWriter?
    private var archiveKey = ""
    private var archivePath = ""
    private var archiveFeatures = 0
    private var archiveDeletions = 0
    private var sealed: [(key: String, path: String, features: Int, deletions: Int)] = []

    init(
        artifacts: any ArtifactStore, keyPrefix: String, featuresPerFile: Int, maxZipBytes: Int64, alwaysWriteFeatureFile: Bool,
        crashPoints: CrashPoints, modified: Date
    ) throws {
        self.crashPoints = crashPoints
        self.modified = modified
        self.artifacts = artifacts
        self.keyPrefix = keyPrefix
        self.featuresPerFile = featuresPerFile
        self.maxZipBytes = maxZipBytes
        self.alwaysWriteFeatureFile = alwaysWriteFeatureFile
    }

    func add(feature: String) throws {
        features.append(feature)
        if features.count >= featuresPerFile { try flushFeatures() }
    }

    func add(deletedId: String) throws {
        deletions.append(deletedId)
        if deletions.count >= featuresPerFile { try flushDeletions() }
    }

    func finish() async throws -> [ReplicaFile] {
        try flushFeatures()
        try flushDeletions()
        if alwaysWriteFeatureFile && !wroteFeatureFile { try place(features: [], deletions: []) }
        try seal()
        var files: [ReplicaFile] = []
        for zip in sealed {
            let published = try await artifacts.publish(stagingPath: zip.path, key: zip.key)
            crashPoints.check("replica-publish")
            files.append(ReplicaFile(key: zip.key, size: published.size, sha256: published.sha256, features: zip.features, deletions: zip.deletions))
        }
        return files
    }

    private func flushFeatures() throws {
        guard !features.isEmpty else { return }
        let batch = features
        features.removeAll(keepingCapacity: true)
        try place(features: batch, deletions: [])
    }

    private func flushDeletions() throws {
        guard !deletions.isEmpty else { return }
        let batch = deletions
        deletions.removeAll(keepingCapacity: true)
        try place(features: [], deletions: batch)
    }

    /// Makes one GeoJSON (or deleted-ids) file and adds it to a zip under the cap.
    private func place(features: [String], deletions: [String]) throws {
        let isDeletion = !deletions.isEmpty
        let name = (isDeletion ? "deleted_" : "") + UUID().uuidString.lowercased() + (isDeletion ? ".json" : ".geojson")
        var bytes: [UInt8] = []
        if isDeletion {
            bytes = Array(CanonicalJSON.text(.array(deletions.map { .string($0) })).utf8)
        } else {
            // The features' texts appended straight into the file's bytes (no joined String in between).
            bytes.reserveCapacity(features.reduce(64) { $0 + $1.utf8.count + 1 })
            bytes += #"{"type":"FeatureCollection","features":["#.utf8
            for (index, feature) in features.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                bytes += feature.utf8
            }
            bytes += "]}".utf8
        }
        if try add(bytes, name: name, features: features.count, deletions: deletions.count) {
            if !isDeletion { wroteFeatureFile = true }
            filesWritten += 1
            crashPoints.check("replica", reached: filesWritten)
            return
        }
        // Too large for a zip of its own: split it.
        let count = max(features.count, deletions.count)
        guard count > 1 else {
            throw ServiceError.invalid("a single \(isDeletion ? "deleted id" : "feature") is larger than the zip cap of \(maxZipBytes) bytes")
        }
        let half = count / 2
        try place(features: Array(features.prefix(half)), deletions: Array(deletions.prefix(half)))
        try place(features: Array(features.dropFirst(half)), deletions: Array(deletions.dropFirst(half)))
    }

    /// Adds a file's bytes to the current zip, deflated first so that its size is known: one that would take the zip
    /// past the cap goes to a fresh zip instead.
    /// - Returns: false when even an empty zip cannot hold it.
    private func add(_ bytes: [UInt8], name: String, features: Int, deletions: Int) throws -> Bool {
        let entry = ZipFileWriter.compress(bytes, name: name, compressor: compressor)
        for attempt in 0..<2 {
            let archive = try openArchive()
            if archive.sizeClosed(with: entry) <= UInt64(max(0, maxZipBytes)) {
                try archive.add(entry)
                archiveFeatures += features
                archiveDeletions += deletions
                return true
            }
            if archive.entryCount == 0 || attempt == 1 { return false }
            try seal()
        }
        return false
    }

    private func openArchive() throws -> ZipFileWriter {
        if let archive { return archive }
        archiveKey = "\(keyPrefix)/\(UUID().uuidString.lowercased()).zip"
        archivePath = try artifacts.stagingPath(for: archiveKey)
        try? FileManager.default.removeItem(atPath: archivePath)
        let archive = try ZipFileWriter(path: archivePath, modified: modified)
        self.archive = archive
        archiveFeatures = 0
        archiveDeletions = 0
        return archive
    }

    /// Closes the current zip if it holds anything.
    private func seal() throws {
        guard let archive else { return }
        self.archive = nil
        try archive.close()
        if archive.entryCount > 0 {
            sealed.append((archiveKey, archivePath, archiveFeatures, archiveDeletions))
        } else {
            try? FileManager.default.removeItem(atPath: archivePath)
        }
        archivePath = ""
    }
}
