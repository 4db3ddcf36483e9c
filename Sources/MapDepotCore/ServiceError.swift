import Foundation
import JSONValues

/// A request MapDepot refuses, as a small typed value, shared by the export and replication domains. The HTTP layer maps ``Kind`` to a status code in one
/// place; the message says what is wrong and, where it can, how to fix it.
public struct ServiceError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// 400: the request is malformed or breaks a rule.
        case invalid
        /// 401: no token, or an unknown or expired one.
        case unauthenticated
        /// 403: the token lacks the scope.
        case forbidden
        /// 404: unknown id, or one that belongs to another customer.
        case notFound
        /// 409: the operation does not fit the current state.
        case conflict
        /// 410: what was asked for existed and is no longer kept (a replica cursor older than the retention window).
        case gone
        /// 413: the body is too large.
        case payloadTooLarge
        /// 422: the ROI covers more tiles than allowed.
        case tooManyTiles
        /// 507: not enough storage for the estimate.
        case insufficientStorage
        /// 429: the caller has too much running already, or sends too fast.
        case tooManyRequests
        /// 503: a dependency (the state database) is busy or away; the request may be sent again.
        case unavailable
    }

    public var kind: Kind
    public var message: String
    /// Seconds after which the request may succeed (`Retry-After` on 429 and 503).
    public var retryAfterSeconds: Int?
    /// Members the answer carries beside `message` (the 410's `latestSnapshot`).
    public var details: [String: JSONValue]

    public init(_ kind: Kind, _ message: String, retryAfterSeconds: Int? = nil, details: [String: JSONValue] = [:]) {
        self.kind = kind
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
        self.details = details
    }

    public static func invalid(_ message: String) -> ServiceError { ServiceError(.invalid, message) }
    public static func notFound(_ message: String) -> ServiceError { ServiceError(.notFound, message) }

    public var description: String { message }
}

/// What an adapter's own error says about the storage behind it, so that the HTTP layer can answer 503 or 507
/// without knowing SQLite or PostgreSQL (issue #9: a locked database answered 500, a full disk 500).
public enum StorageCondition: Sendable, Equatable {
    /// Locked by another writer past the busy timeout: try again shortly (503).
    case busy
    /// The database server cannot be reached (503).
    case unreachable
    /// No space left (507).
    case full
}

/// An error that can tell a ``StorageCondition``.
public protocol StorageConditionReporting: Error {
    var storageCondition: StorageCondition? { get }
}

extension StorageCondition {
    /// What `error` says about the storage: an adapter's own report, or ENOSPC / EDQUOT as Foundation or POSIX words it.
    public static func of(_ error: any Error) -> StorageCondition? {
        if let condition = (error as? any StorageConditionReporting)?.storageCondition { return condition }
        if let error = error as? CocoaError, error.code == .fileWriteOutOfSpace { return .full }
        let nsError = error as NSError
        if nsError.domain == NSPOSIXErrorDomain && (nsError.code == Int(ENOSPC) || nsError.code == Int(EDQUOT)) { return .full }
        return nil
    }
}

/// A storage adapter's own failure — a rename, a read, a staged file gone: the server's fault, answered 500 with a log
/// line (507 when the disk is full), never the 400 of ``ServiceError/invalid(_:)`` it used to be (issue #10).
public struct StorageFailure: Error, StorageConditionReporting, CustomStringConvertible {
    public var description: String
    /// The `errno` of the call that failed, when there was one.
    public var code: Int32?

    public init(_ description: String, code: Int32? = nil) {
        self.description = description
        self.code = code
    }

    /// The failed call's `errno`, in words, after `what`.
    public static func posix(_ what: String, code: Int32 = errno) -> StorageFailure {
        StorageFailure("\(what): \(String(cString: strerror(code)))", code: code)
    }

    public var storageCondition: StorageCondition? {
        code == ENOSPC || code == EDQUOT ? .full : nil
    }
}
