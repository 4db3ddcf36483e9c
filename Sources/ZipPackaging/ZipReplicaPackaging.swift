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
    /// A GeoJSON file is sealed before its texts pass this size, whatever its feature count (issue #15: four writers
    /// each holding 10,000 large polygons, 24 MB, and its deflated copy made a polygon snapshot's peak RSS ~300 MB).
    /// A file holds at least one feature.
    public let maxFileBytes: Int
    /// libdeflate's level, 1–12 (``ZipFileWriter/Compressor``).
    public let level: Int
    let crashPoints: CrashPoints
    let clock: any WallClock

    public init(
        artifacts: any ArtifactStore, featuresPerFile: Int = 10_000, maxZipBytes: Int64 = 500_000_000, maxFileBytes: Int = 8 << 20,
        level: Int = 6, crashPoints: CrashPoints = .none, clock: any WallClock = SystemClock()
    ) {
        self.maxFileBytes = max(1, maxFileBytes)
        self.artifacts = artifacts
        self.featuresPerFile = max(1, featuresPerFile)
        self.maxZipBytes = maxZipBytes
        self.level = min(12, max(1, level))
        self.crashPoints = crashPoints
        self.clock = clock
    }

    public func makeWriter(keyPrefix: String, alwaysWriteFeatureFile: Bool) throws -> any ReplicaWriter {
        try ZipReplicaWriter(
            artifacts: artifacts, keyPrefix: keyPrefix, featuresPerFile: featuresPerFile, maxZipBytes: maxZipBytes,
            maxFileBytes: maxFileBytes, alwaysWriteFeatureFile: alwaysWriteFeatureFile, level: level, crashPoints: crashPoints, modified: clock.now()
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
    private let maxFileBytes: Int
    private let alwaysWriteFeatureFile: Bool
    private let crashPoints: CrashPoints
    private let modified: Date
    private let compressor: ZipFileWriter.Compressor
    private var filesWritten = 0

    /// The GeoJSON file being filled: the FeatureCollection's head, then the features' texts comma-separated; sealed by
    /// appending the tail, so that a snapshot's texts are copied once, from a store page into the file.
    private var file = ZipReplicaWriter.head
    /// Where each of its features' texts ends in ``file``.
    private var fileEnds: [Int] = []
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
        artifacts: any ArtifactStore, keyPrefix: String, featuresPerFile: Int, maxZipBytes: Int64, maxFileBytes: Int, alwaysWriteFeatureFile: Bool,
        level: Int, crashPoints: CrashPoints, modified: Date
    ) throws {
        self.maxFileBytes = maxFileBytes
        self.compressor = ZipFileWriter.Compressor(level: Int32(level))
        self.crashPoints = crashPoints
        self.modified = modified
        self.artifacts = artifacts
        self.keyPrefix = keyPrefix
        self.featuresPerFile = featuresPerFile
        self.maxZipBytes = maxZipBytes
        self.alwaysWriteFeatureFile = alwaysWriteFeatureFile
    }

    static let head = Array(#"{"type":"FeatureCollection","features":["#.utf8)
    static let tail = Array("]}".utf8)

    func add(feature: String) throws {
        var feature = feature
        if !fileEnds.isEmpty && file.count + 1 + feature.utf8.count > maxFileBytes { try flushFeatures() }
        feature.withUTF8 { text in
            if !fileEnds.isEmpty { file.append(UInt8(ascii: ",")) }
            file.append(contentsOf: text)
            fileEnds.append(file.count)
        }
        if fileEnds.count >= featuresPerFile { try flushFeatures() }
    }

    func add(features: FeatureTexts) throws {
        // In runs that fill the open file, each copied in one piece (a page may end one file and start the next).
        var index = 0
        while index < features.count {
            var run = index..<min(features.count, index + featuresPerFile - fileEnds.count)
            let room = maxFileBytes - file.count - (fileEnds.isEmpty ? 0 : 1)
            var full = false
            if features.ends[run.upperBound - 1] - features.start(of: index) > room {
                // The longest run that fits the room, by binary search over the texts' ends.
                var fits = index
                var beyond = run.upperBound
                while fits < beyond {
                    let middle = (fits + beyond) / 2
                    if features.ends[middle] - features.start(of: index) <= room { fits = middle + 1 } else { beyond = middle }
                }
                if fits == index && !fileEnds.isEmpty {
                    try flushFeatures()
                    continue
                }
                run = index..<max(fits, index + 1)
                full = true
            }
            if !fileEnds.isEmpty { file.append(UInt8(ascii: ",")) }
            let from = features.start(of: run.lowerBound)
            let shift = file.count - from
            file.append(contentsOf: features.bytes[from..<features.ends[run.upperBound - 1]])
            for feature in run { fileEnds.append(features.ends[feature] + shift) }
            index = run.upperBound
            if full || fileEnds.count >= featuresPerFile { try flushFeatures() }
        }
    }

    func add(deletedId: String) throws {
        deletions.append(deletedId)
        if deletions.count >= featuresPerFile { try flushDeletions() }
    }

    func finish() async throws -> [ReplicaFile] {
        try flushFeatures()
        try flushDeletions()
        if alwaysWriteFeatureFile && !wroteFeatureFile { try place(featureFile: Self.head + Self.tail, ends: []) }
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
        guard !fileEnds.isEmpty else { return }
        // Moved out, not copied (a copy held the file twice); the next file starts in a buffer of its own.
        var complete = Self.head
        swap(&complete, &file)
        complete += Self.tail
        // Reserved, not touched: pages of it become resident only as the next file fills them, without regrowing.
        file.reserveCapacity(complete.count)
        let ends = fileEnds
        fileEnds.removeAll(keepingCapacity: true)
        try place(featureFile: complete, ends: ends[...])
    }

    private func flushDeletions() throws {
        guard !deletions.isEmpty else { return }
        let batch = deletions
        deletions.removeAll(keepingCapacity: true)
        try place(deletions: batch[...])
    }

    /// Adds a GeoJSON file (head, texts ending at `ends`, tail) to a zip under the cap, split in halves when too large for
    /// a zip of its own.
    private func place(featureFile: [UInt8], ends: ArraySlice<Int>) throws {
        let name = UUID().uuidString.lowercased() + ".geojson"
        if try add(featureFile, name: name, features: ends.count, deletions: 0) {
            wroteFeatureFile = true
            filesWritten += 1
            crashPoints.check("replica", reached: filesWritten)
            return
        }
        guard ends.count > 1 else { throw ServiceError.invalid("a single feature is larger than the zip cap of \(maxZipBytes) bytes") }
        // A text starts one past the previous one's end (its comma); the first, after the head.
        func start(_ index: Int) -> Int { index == ends.startIndex ? Self.head.count : ends[index - 1] + 1 }
        for half in [ends.prefix(ends.count / 2), ends.dropFirst(ends.count / 2)] {
            let from = start(half.startIndex)
            var part = Self.head
            let shift = part.count - from
            part += featureFile[from..<half.last!]
            part += Self.tail
            try place(featureFile: part, ends: ArraySlice(half.map { $0 + shift }))
        }
    }

    /// Adds a deleted-ids file to a zip under the cap, split in halves when too large for a zip of its own.
    private func place(deletions: ArraySlice<String>) throws {
        let name = "deleted_" + UUID().uuidString.lowercased() + ".json"
        let bytes = Array(CanonicalJSON.text(.array(deletions.map { .string($0) })).utf8)
        if try add(bytes, name: name, features: 0, deletions: deletions.count) {
            filesWritten += 1
            crashPoints.check("replica", reached: filesWritten)
            return
        }
        guard deletions.count > 1 else { throw ServiceError.invalid("a single deleted id is larger than the zip cap of \(maxZipBytes) bytes") }
        try place(deletions: deletions.prefix(deletions.count / 2))
        try place(deletions: deletions.dropFirst(deletions.count / 2))
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
