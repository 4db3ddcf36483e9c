import Foundation

/// All of MapDepot's time, behind one protocol (issue #10): what time it is, waiting, and the randomness that spreads
/// retries. Every loop (workers, heartbeats, takeover, dispatcher, sweeper, scheduler, chain leases, event streams)
/// sleeps through it, so a test that moves time itself runs a lease or back-off scenario in milliseconds.
///
/// Not behind it, on purpose: the watchdog of database operations (``Watchdog``) and the SQLite busy timeout guard
/// against the real world hanging, and an adapter's own retry pause (an S3 request, the PostgreSQL listener's reconnect)
/// waits for the real service, so they keep real time; benchmarks and the CLI's elapsed time measure real time.
public protocol WallClock: Sendable {
    func now() -> Date
    /// Returns after `duration` of this clock's time, or throws `CancellationError` when the task is cancelled.
    func sleep(for duration: Duration) async throws
    /// A uniformly random number in `range`: the jitter of webhook back-off.
    func jitter(in range: Range<Double>) -> Double
}

/// The system's clock.
public struct SystemClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
    public func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
    public func jitter(in range: Range<Double>) -> Double { Double.random(in: range) }
}

extension Duration {
    /// The duration in seconds.
    public var seconds: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
