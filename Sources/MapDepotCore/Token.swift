import Crypto
import Foundation
import Synchronization

/// What a token allows (SPEC "Auth").
public enum Scope: String, Sendable, Codable, CaseIterable {
    case export
    case replicationRead = "replication:read"
    case replicationWrite = "replication:write"
    case admin
    /// exporter-trigger's internal API (`POST /export`, `GET /export/{jobId}/status`, `GET /storage`), for the systems
    /// that called MapColonies' trigger.
    case exportTrigger = "export:trigger"
}

/// A token as stored: its SHA-256, never the token itself.
public struct StoredToken: Sendable, Hashable {
    public var hash: String
    public var subject: String
    public var scopes: Set<Scope>
    public var createdAt: Date
    public var expiresAt: Date?
    /// When it last authenticated a request, to the minute (``TokenService`` writes it at most once a minute).
    public var lastUsedAt: Date?

    public init(hash: String, subject: String, scopes: Set<Scope>, createdAt: Date, expiresAt: Date?, lastUsedAt: Date? = nil) {
        self.hash = hash
        self.subject = subject
        self.scopes = scopes
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.lastUsedAt = lastUsedAt
    }

    /// How listings and `revoke` name a token: the first 16 hex digits of its hash. It identifies the token
    /// without being usable as one (the hash cannot be turned back into the token).
    public var id: String { String(hash.prefix(16)) }
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
    /// Every token, oldest first.
    func tokens() async throws -> [StoredToken]
    /// Deletes the token whose hash starts with `id`; false when there is none.
    func revoke(id: String) async throws -> Bool
    func recordUse(hash: String, at: Date) async throws
}

/// Issues and checks opaque API tokens: 32 random bytes, base64url, prefixed `mdp_`; stored as SHA-256.
///
/// Lookups are cached for ``cacheSeconds`` (issue #9: every authenticated request read the token from the state
/// database, which capped `GET /export-tasks/{id}`): a token revoked here stops working at once, on other nodes
/// within that time. Use is recorded at most once a minute per token and node.
public struct TokenService: Sendable {
    private let store: any TokenStore
    private let clock: any WallClock
    private let cacheSeconds: TimeInterval
    private let cache = TokenCache()
    private let limiter: RateLimiter

    public init(store: any TokenStore, clock: any WallClock, cacheSeconds: TimeInterval = 2, limiter: RateLimiter = RateLimiter(rate: 0, burst: 1)) {
        self.store = store
        self.clock = clock
        self.cacheSeconds = cacheSeconds
        self.limiter = limiter
    }

    /// The longest lifetime a token may have: 100 years.
    public static let maxLifetime: TimeInterval = 100 * 365.25 * 86_400

    /// Creates a token and returns it; only its hash is kept.
    public func create(subject: String, scopes: Set<Scope>, lifetime: TimeInterval?) async throws -> String {
        try await issue(subject: subject, scopes: scopes, lifetime: lifetime).token
    }

    /// Creates a token and returns it with what is stored of it.
    public func issue(subject: String, scopes: Set<Scope>, lifetime: TimeInterval?) async throws -> (token: String, stored: StoredToken) {
        guard !subject.isEmpty else { throw ServiceError.invalid("the subject must not be empty") }
        guard !scopes.isEmpty else { throw ServiceError.invalid("a token needs at least one scope") }
        if let lifetime, !(lifetime > 0 && lifetime <= Self.maxLifetime) {
            // Found by Schemathesis (issue #12): 5.8e16 s overflowed the timestamp and stopped the server.
            throw ServiceError.invalid("a token's lifetime must be more than 0 and at most \(Int(Self.maxLifetime)) seconds (100 years), found \(lifetime)")
        }
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = generator.next() }
        let token = "mdp_" + Base64URL.encode(Data(bytes))
        let now = clock.now()
        let stored = StoredToken(
            hash: Self.hash(token), subject: subject, scopes: scopes, createdAt: Timestamp.milliseconds(now),
            expiresAt: lifetime.map { Timestamp.milliseconds(now.addingTimeInterval($0)) }
        )
        try await store.insert(stored)
        return (token, stored)
    }

    /// The caller a token stands for.
    /// - Throws: ``ServiceError`` `.unauthenticated` for a missing, unknown or expired token.
    public func authenticate(_ token: String?) async throws -> Principal {
        guard let token, !token.isEmpty else {
            throw ServiceError(.unauthenticated, "a token is required: send it in the x-api-key header or the token query parameter")
        }
        let hash = Self.hash(token)
        let now = clock.now()
        let stored: StoredToken?
        if let cached = cache.lookup(hash, now: now) {
            stored = cached
        } else {
            stored = try await store.token(hash: hash)
            cache.store(hash, stored, until: now.addingTimeInterval(cacheSeconds))
        }
        guard let stored else { throw ServiceError(.unauthenticated, "the token is not valid") }
        if let expiresAt = stored.expiresAt, expiresAt <= now {
            throw ServiceError(.unauthenticated, "the token expired at \(Timestamp.string(expiresAt))")
        }
        if let wait = limiter.take(hash, now: now) {
            throw ServiceError(
                .tooManyRequests, "this token sent more than \(limiter.rate.formatted()) requests a second; try again in \(wait) s",
                retryAfterSeconds: wait
            )
        }
        if cache.useIsDue(hash, now: now) {
            // Best effort and in the background: the request neither waits for this write (a locked state
            // database held reads up for its 10 s busy timeout) nor fails with it.
            let store = self.store
            Task { try? await store.recordUse(hash: hash, at: now) }
        }
        return Principal(subject: stored.subject, scopes: stored.scopes)
    }

    /// Every token (never the tokens themselves: they are not kept).
    public func list() async throws -> [StoredToken] {
        try await store.tokens()
    }

    /// Revokes the token with this ``StoredToken/id``.
    /// - Throws: ``ServiceError`` `.notFound` when there is none, `.invalid` for an id that is not 16 hex digits.
    public func revoke(id: String) async throws {
        guard id.count == 16, id.allSatisfy(\.isHexDigit) else {
            throw ServiceError.invalid("a token id is 16 hexadecimal digits (as `token list` shows), found \"\(id)\"")
        }
        guard try await store.revoke(id: id.lowercased()) else { throw ServiceError.notFound("no token with id \(id)") }
        cache.removeAll()
    }

    /// Hex SHA-256 of the token's UTF-8 bytes. A fast hash is enough: tokens carry 256 random bits.
    public static func hash(_ token: String) -> String {
        Hex.encode(SHA256.hash(data: Data(token.utf8)))
    }
}

/// What ``TokenService`` remembers between requests: lookups (found or not) until a deadline, and when each token's
/// use was last written.
final class TokenCache: Sendable {
    private struct State {
        var entries: [String: (token: StoredToken?, until: Date)] = [:]
        var used: [String: Date] = [:]
    }

    private let state = Mutex(State())

    func lookup(_ hash: String, now: Date) -> StoredToken?? {
        state.withLock { state in
            guard let entry = state.entries[hash], entry.until > now else { return nil }
            return .some(entry.token)
        }
    }

    func store(_ hash: String, _ token: StoredToken?, until: Date) {
        state.withLock { state in
            // Bounded: unknown tokens sent by a client must not grow it without end.
            if state.entries.count > 10_000 { state.entries.removeAll() }
            state.entries[hash] = (token, until)
        }
    }

    /// True at most once a minute per token.
    func useIsDue(_ hash: String, now: Date) -> Bool {
        state.withLock { state in
            if let last = state.used[hash], now.timeIntervalSince(last) < 60 { return false }
            if state.used.count > 10_000 { state.used.removeAll() }
            state.used[hash] = now
            return true
        }
    }

    func removeAll() {
        state.withLock { $0.entries.removeAll() }
    }
}
