import Crypto
import Foundation

/// What a token allows (SPEC "Auth").
public enum Scope: String, Sendable, Codable, CaseIterable {
    case export
    case replicationRead = "replication:read"
    case replicationWrite = "replication:write"
    case admin
}

/// A token as stored: its SHA-256, never the token itself.
public struct StoredToken: Sendable, Hashable {
    public var hash: String
    public var subject: String
    public var scopes: Set<Scope>
    public var createdAt: Date
    public var expiresAt: Date?

    public init(hash: String, subject: String, scopes: Set<Scope>, createdAt: Date, expiresAt: Date?) {
        self.hash = hash
        self.subject = subject
        self.scopes = scopes
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// Who is calling: the token's subject (the customer) and scopes.
public struct Principal: Sendable, Hashable {
    public var subject: String
    public var scopes: Set<Scope>

    public init(subject: String, scopes: Set<Scope>) {
        self.subject = subject
        self.scopes = scopes
    }

    /// `admin` holds every scope.
    public func has(_ scope: Scope) -> Bool {
        scopes.contains(scope) || scopes.contains(.admin)
    }

    /// - Throws: ``ServiceError`` `.forbidden` without the scope.
    public func require(_ scope: Scope) throws(ServiceError) {
        guard has(scope) else { throw ServiceError(.forbidden, "this token lacks the \"\(scope.rawValue)\" scope") }
    }
}

/// API tokens, stored by hash only.
public protocol TokenStore: Sendable {
    func insert(_ token: StoredToken) async throws
    func token(hash: String) async throws -> StoredToken?
}

/// Issues and checks opaque API tokens: 32 random bytes, base64url, prefixed `mdp_`; stored as SHA-256.
public struct TokenService: Sendable {
    private let store: any TokenStore
    private let clock: any WallClock

    public init(store: any TokenStore, clock: any WallClock) {
        self.store = store
        self.clock = clock
    }

    /// Creates a token and returns it; only its hash is kept.
    public func create(subject: String, scopes: Set<Scope>, lifetime: TimeInterval?) async throws -> String {
        guard !subject.isEmpty else { throw ServiceError.invalid("the subject must not be empty") }
        guard !scopes.isEmpty else { throw ServiceError.invalid("a token needs at least one scope") }
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = generator.next() }
        let token = "mdp_" + Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        let now = clock.now()
        try await store.insert(
            StoredToken(
                hash: Self.hash(token), subject: subject, scopes: scopes, createdAt: now,
                expiresAt: lifetime.map { now.addingTimeInterval($0) }
            )
        )
        return token
    }

    /// The caller a token stands for.
    /// - Throws: ``ServiceError`` `.unauthenticated` for a missing, unknown or expired token.
    public func authenticate(_ token: String?) async throws -> Principal {
        guard let token, !token.isEmpty else {
            throw ServiceError(.unauthenticated, "a token is required: send it in the x-api-key header or the token query parameter")
        }
        guard let stored = try await store.token(hash: Self.hash(token)) else {
            throw ServiceError(.unauthenticated, "the token is not valid")
        }
        if let expiresAt = stored.expiresAt, expiresAt <= clock.now() {
            throw ServiceError(.unauthenticated, "the token expired at \(Timestamp.string(expiresAt))")
        }
        return Principal(subject: stored.subject, scopes: stored.scopes)
    }

    /// Hex SHA-256 of the token's UTF-8 bytes. A fast hash is enough: tokens carry 256 random bits.
    public static func hash(_ token: String) -> String {
        Hex.encode(SHA256.hash(data: Data(token.utf8)))
    }
}
