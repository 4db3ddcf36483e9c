import Crypto
import Foundation
import MapDepotCore
import ReplicationCore

/// `mapdepot replicate`'s engine (issue #14): brings a local copy of one (layer, geometry type) up to the server's, one
/// whole replica at a time. The first run takes the latest snapshot; later runs apply every delta after the cursor in
/// sequence order. Each file is downloaded into `staging` (resumed with `Range` after an interruption), checked against
/// the listed size and SHA-256, and only then applied, in one transaction with the cursor; the target checks the layer
/// hash before it commits. Anything that fails leaves the copy at its last whole replica.
public struct ReplicaSync: Sendable {
    let layerId: Int
    let geometryType: GeometryType
    let server: any ReplicaServer
    let target: any MirrorTarget
    let reader: any ReplicaContentReader
    /// Downloads in progress (`<sha256>.zip.part`) and verified (`<sha256>.zip`), kept across runs until applied.
    let staging: String
    let crashPoints: CrashPoints
    let events: @Sendable (SyncEvent) -> Void
    /// Deltas asked for per listing.
    let pageSize: Int

    public init(
        layerId: Int, geometryType: GeometryType, server: any ReplicaServer, target: any MirrorTarget, reader: any ReplicaContentReader,
        staging: String, crashPoints: CrashPoints = .none, pageSize: Int = 100, events: @escaping @Sendable (SyncEvent) -> Void = { _ in }
    ) {
        self.layerId = layerId
        self.geometryType = geometryType
        self.server = server
        self.target = target
        self.reader = reader
        self.staging = staging
        self.crashPoints = crashPoints
        self.pageSize = max(1, pageSize)
        self.events = events
    }

    /// Syncs until up to date or a limit stops it.
    public func run(_ limits: SyncLimits) async throws -> SyncOutcome {
        var cursor: MirrorCursor
        var applied = 0
        var bytes: Int64 = 0
        if let stored = try await target.cursor() {
            guard stored.layerId == layerId, stored.geometryType == geometryType else {
                throw SyncError.foreignSource(
                    "the local copy holds layer \(stored.layerId) \(stored.geometryType.rawValue), not layer \(layerId) \(geometryType.rawValue)"
                )
            }
            // Checked before anything is listed: a copy pointed at another server's layer of the same id is refused even when
            // that server has nothing after the cursor to list.
            if let mine = stored.sourceId, let theirs = try await server.sourceId(), mine != theirs {
                throw SyncError.foreignSource(
                    "the local copy is of source \(mine.uuidString.lowercased()), the server's layer \(layerId) is \(theirs.uuidString.lowercased()): "
                        + "it is another server's layer"
                )
            }
            cursor = stored
        } else if let snapshot = try await server.latest(.snapshot) {
            cursor = try await applySnapshot(snapshot, over: nil)
            applied += 1
            bytes += snapshot.totalBytes
        } else {
            // No snapshot yet: the copy starts as the empty layer and takes every delta from the layer's creation.
            cursor = MirrorCursor.empty(layerId: layerId, geometryType: geometryType)
        }
        while true {
            let page: [RemoteReplica]
            do {
                page = try await server.deltas(after: cursor.deltaSequence, limit: pageSize)
            } catch SyncError.cursorTooOld(let message) {
                guard limits.resnapshot else { return .cursorTooOld(cursor, message: message) }
                cursor = try await resnapshot(over: cursor, reason: message)
                applied += 1
                continue
            }
            var index = 0
            var relist = false
            while index < page.count && !relist {
                let delta = page[index]
                if let until = limits.untilSequence, delta.sequenceNumber > until { return .reachedSequence(cursor) }
                switch SyncRule.step(cursor: cursor, delta: delta) {
                case .skip:
                    events(.skipped(delta))
                    cursor.deltaSequence = delta.sequenceNumber
                case .foreign:
                    throw SyncError.foreignSource(
                        "delta \(delta.sequenceNumber) is of source \(delta.sourceId?.uuidString.lowercased() ?? "?"), the local copy of "
                            + "\(cursor.sourceId?.uuidString.lowercased() ?? "?"): it is another server's layer"
                    )
                case .gap:
                    let message = "delta \(delta.sequenceNumber) starts at change \(delta.fromChangeSequence ?? 0), the local copy is at \(cursor.changeSequence)"
                    guard limits.resnapshot else { return .cursorTooOld(cursor, message: message) }
                    cursor = try await resnapshot(over: cursor, reason: message)
                    applied += 1
                    relist = true
                case .apply:
                    if applied > 0 {
                        if limits.once { return .partial(cursor, remaining: page.count - index) }
                        if let cap = limits.maxBytes, bytes + delta.totalBytes > cap { return .partial(cursor, remaining: page.count - index) }
                    }
                    cursor = try await applyDelta(delta, over: cursor)
                    applied += 1
                    bytes += delta.totalBytes
                }
                index += 1
            }
            if !relist && page.count < pageSize { break }
        }
        if let until = limits.untilSequence, cursor.deltaSequence >= until { return .reachedSequence(cursor) }
        return .upToDate(cursor)
    }

    /// Local and server positions, for `status --json`.
    public func status() async throws -> SyncStatus {
        let local = try await target.cursor()
        let latestDelta = try await server.latest(.delta)
        let latestSnapshot = try await server.latest(.snapshot)
        return SyncStatus(local: local, features: try await target.count(), latestDelta: latestDelta, latestSnapshot: latestSnapshot)
    }

    private func resnapshot(over cursor: MirrorCursor, reason: String) async throws -> MirrorCursor {
        events(.resnapshot(reason: reason))
        guard let snapshot = try await server.latest(.snapshot) else {
            throw SyncError.cursorTooOld("\(reason), and the server has no snapshot to start again from")
        }
        return try await applySnapshot(snapshot, over: cursor)
    }

    private func applySnapshot(_ snapshot: RemoteReplica, over cursor: MirrorCursor?) async throws -> MirrorCursor {
        if let mine = cursor?.sourceId, let theirs = snapshot.sourceId, mine != theirs {
            throw SyncError.foreignSource("snapshot \(snapshot.sequenceNumber) is of another source than the local copy: it is another server's layer")
        }
        let content = try await fetch(snapshot)
        events(.applying(snapshot, features: content.upserts.count))
        let next = (cursor ?? .empty(layerId: layerId, geometryType: geometryType)).after(snapshot)
        try await target.replace(with: content, cursor: next)
        events(.applied(snapshot, cursor: next))
        try discardStaged(snapshot)
        return next
    }

    private func applyDelta(_ delta: RemoteReplica, over cursor: MirrorCursor) async throws -> MirrorCursor {
        let content = try await fetch(delta)
        events(.applying(delta, features: content.upserts.count + content.deletions.count))
        let next = cursor.after(delta)
        try await target.apply(content, cursor: next)
        events(.applied(delta, cursor: next))
        try discardStaged(delta)
        return next
    }

    /// Downloads (or finds already downloaded) and verifies every file of a replica, then reads them.
    private func fetch(_ replica: RemoteReplica) async throws -> ReplicaContent {
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        let total = replica.totalBytes
        var done: Int64 = 0
        var paths: [String] = []
        for file in replica.files {
            guard let sha256 = file.sha256, let size = file.size, sha256.count == 64, sha256.allSatisfy(\.isHexDigit) else {
                throw SyncError.protocolViolation("replica \(replica.sequenceNumber) lists a file without size and SHA-256: it cannot be verified")
            }
            let path = "\(staging)/\(sha256.lowercased()).zip"
            if !FileManager.default.fileExists(atPath: path) {
                let partial = path + ".part"
                let base = done
                let events = self.events
                let crashPoints = self.crashPoints
                try await server.download(file, to: partial) { onDisk in
                    events(.downloading(replica, bytes: base + onDisk, total: total))
                    crashPoints.check("sync-download", reached: Int(base + onDisk))
                }
                try await Self.verify(partial, size: size, sha256: sha256.lowercased())
                try FileManager.default.moveItem(atPath: partial, toPath: path)
            }
            done += size
            paths.append(path)
        }
        let reader = self.reader
        return try await Offload.run { [paths] in
            var content = ReplicaContent()
            for path in paths { try reader.read(zipAt: path, into: &content) }
            return content
        }
    }

    /// A file's size and SHA-256, off the cooperative pool; a bad file is removed so the next run downloads it again.
    static func verify(_ path: String, size: Int64, sha256: String) async throws {
        let (actualSize, actualHash) = try await Offload.run { () throws -> (Int64, String) in
            guard let handle = FileHandle(forReadingAtPath: path) else { throw SyncError.corruptDownload("\(path) cannot be read") }
            defer { try? handle.close() }
            var hasher = SHA256()
            var count: Int64 = 0
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                hasher.update(data: chunk)
                count += Int64(chunk.count)
            }
            return (count, Hex.encode(Array(hasher.finalize())))
        }
        guard actualSize == size, actualHash == sha256 else {
            try? FileManager.default.removeItem(atPath: path)
            throw SyncError.corruptDownload("a downloaded file has \(actualSize) bytes and SHA-256 \(actualHash); the server listed \(size) and \(sha256)")
        }
    }

    private func discardStaged(_ replica: RemoteReplica) throws {
        for file in replica.files {
            guard let sha256 = file.sha256 else { continue }
            try? FileManager.default.removeItem(atPath: "\(staging)/\(sha256.lowercased()).zip")
        }
    }
}

/// The answer of `mapdepot replicate status --json`.
public struct SyncStatus: Sendable {
    public var local: MirrorCursor?
    public var features: Int
    public var latestDelta: RemoteReplica?
    public var latestSnapshot: RemoteReplica?

    /// Server change sequence minus the copy's (what remains to apply).
    public var changesBehind: Int? {
        let server = max(latestDelta?.changeSequence ?? 0, latestSnapshot?.changeSequence ?? 0)
        return local.map { max(0, server - $0.changeSequence) }
    }

    /// Seconds between the newest replica's time and the copy's.
    public var secondsBehind: Double? {
        let newest = [latestDelta?.timestamp, latestSnapshot?.timestamp].compactMap { $0 }.max()
        guard let newest, let mine = local?.replicaTimestamp else { return nil }
        return max(0, newest.timeIntervalSince(mine))
    }
}
