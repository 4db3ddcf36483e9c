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
        /// 413: the body is too large.
        case payloadTooLarge
        /// 422: the ROI covers more tiles than allowed.
        case tooManyTiles
        /// 507: not enough storage for the estimate.
        case insufficientStorage
        /// 429: the caller has too much running already.
        case tooManyRequests
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public static func invalid(_ message: String) -> ServiceError { ServiceError(.invalid, message) }
    public static func notFound(_ message: String) -> ServiceError { ServiceError(.notFound, message) }

    public var description: String { message }
}
