/// Shares one read among every caller that asks for the same key within `maxAge`: the first caller reads, callers
/// arriving while that read is in flight wait for it, and callers arriving up to `maxAge` after it get its value.
///
/// For pollers, not for answers that must see a write just made: a Server-Sent Events stream polls its task every
/// 250 ms, so 1,000 streams open on one task read the store 4,000 times a second for one row (issue #9, "1,000
/// idle SSE connections"); through this, a few times a second. A failed read is not kept.
public actor RecentReads<Key: Hashable & Sendable, Value: Sendable> {
    private enum Entry {
        case reading(Task<Value, any Error>)
        case read(Value, at: ContinuousClock.Instant)
    }

    private let maxAge: Duration
    private let read: @Sendable (Key) async throws -> Value
    private let now: @Sendable () -> ContinuousClock.Instant
    private var entries: [Key: Entry] = [:]
    private var lastPrune: ContinuousClock.Instant

    /// - Parameter now: the time (a test's own clock; by default the continuous clock's).
    public init(
        maxAge: Duration, now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }, read: @escaping @Sendable (Key) async throws -> Value
    ) {
        self.maxAge = maxAge
        self.read = read
        self.now = now
        self.lastPrune = now()
    }

    public func value(for key: Key) async throws -> Value {
        let now = self.now()
        prune(now)
        switch entries[key] {
        case .read(let value, let at) where now - at < maxAge:
            return value
        case .reading(let task):
            return try await task.value
        default:
            let read = self.read
            let task = Task { try await read(key) }
            entries[key] = .reading(task)
            do {
                let value = try await task.value
                entries[key] = .read(value, at: self.now())
                return value
            } catch {
                entries[key] = nil
                throw error
            }
        }
    }

    /// Drops values too old to be served, at most once per `maxAge`, so the map holds what pollers ask for now.
    private func prune(_ now: ContinuousClock.Instant) {
        guard now - lastPrune >= maxAge else { return }
        lastPrune = now
        entries = entries.filter { _, entry in
            if case .read(_, let at) = entry { return now - at < maxAge }
            return true
        }
    }
}
