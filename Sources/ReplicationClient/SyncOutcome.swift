import Foundation

/// How a sync run ended; each has its own exit code (issue #14, after pyosmium-up-to-date's): 0 up to date, 1 partial,
/// 2 error with the copy unchanged since its last whole replica, 3 cursor too old.
public enum SyncOutcome: Sendable, Hashable {
    /// Nothing more to apply.
    case upToDate(MirrorCursor)
    /// Stopped where `--until-sequence` asked: counted as up to date (the copy is where the caller wanted it).
    case reachedSequence(MirrorCursor)
    /// Stopped by `--once` or `--max-bytes` with more to apply.
    case partial(MirrorCursor, remaining: Int)
    /// The server no longer keeps history back to the cursor, and `--no-resnapshot` forbade a new snapshot.
    case cursorTooOld(MirrorCursor, message: String)

    public var exitCode: Int32 {
        switch self {
        case .upToDate, .reachedSequence: 0
        case .partial: 1
        case .cursorTooOld: 3
        }
    }

    public var cursor: MirrorCursor {
        switch self {
        case .upToDate(let cursor), .reachedSequence(let cursor), .partial(let cursor, _), .cursorTooOld(let cursor, _): cursor
        }
    }

    /// The exit code of a run that failed.
    public static let errorExitCode: Int32 = 2
}

/// What a run asks for.
public struct SyncLimits: Sendable, Hashable {
    /// Apply at most one replica.
    public var once: Bool
    /// Stop after the delta with this sequence number.
    public var untilSequence: Int?
    /// Download at most this many bytes (always at least one replica, so a run makes progress).
    public var maxBytes: Int64?
    /// Take a new snapshot when the cursor is too old (else stop with ``SyncOutcome/cursorTooOld(_:message:)``).
    public var resnapshot: Bool

    public init(once: Bool = false, untilSequence: Int? = nil, maxBytes: Int64? = nil, resnapshot: Bool = true) {
        self.once = once
        self.untilSequence = untilSequence
        self.maxBytes = maxBytes
        self.resnapshot = resnapshot
    }
}

/// What a run reports as it goes (a progress bar on a terminal, plain lines otherwise).
public enum SyncEvent: Sendable {
    case downloading(RemoteReplica, bytes: Int64, total: Int64)
    case applying(RemoteReplica, features: Int)
    case applied(RemoteReplica, cursor: MirrorCursor)
    case skipped(RemoteReplica)
    case resnapshot(reason: String)
}
