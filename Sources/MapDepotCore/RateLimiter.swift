import Foundation
import Synchronization

/// A token bucket per key (an API token's hash): `rate` requests a second on average, bursts of up to `burst`
/// (issue #9). Per node and in memory: a client spreading its requests over several nodes gets each node's rate.
public final class RateLimiter: Sendable {
    public let rate: Double
    public let burst: Double
    private let buckets = Mutex([String: (tokens: Double, at: Date)]())

    /// A `rate` of 0 or less turns the limit off.
    public init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = max(1, burst)
    }

    /// Takes one request from `key`'s bucket at `now`.
    /// - Returns: nil when it may go ahead, else the whole seconds until it would.
    public func take(_ key: String, now: Date) -> Int? {
        guard rate > 0 else { return nil }
        return buckets.withLock { buckets in
            if buckets.count > 100_000 { buckets.removeAll() }
            var bucket = buckets[key] ?? (burst, now)
            bucket.tokens = min(burst, bucket.tokens + max(0, now.timeIntervalSince(bucket.at)) * rate)
            bucket.at = now
            defer { buckets[key] = bucket }
            guard bucket.tokens >= 1 else { return max(1, Int(((1 - bucket.tokens) / rate).rounded(.up))) }
            bucket.tokens -= 1
            return nil
        }
    }
}
