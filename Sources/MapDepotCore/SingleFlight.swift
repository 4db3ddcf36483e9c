/// Runs one operation per key at a time and gives its outcome to every caller that asks for the same key while it is
/// in flight: the first caller runs it, the others wait for it and are told they shared it. Nothing is kept once it
/// ends, so a caller arriving afterwards runs it again (unlike ``RecentReads``, which serves a value for a while).
///
/// For writes whose repetition at the same moment changes nothing: 50 identical export requests at once took 50 turns
/// at one job's row lock on PostgreSQL, and on two busy cores the last waited past its client's 20 s timeout (issue
/// #15's CI run); shared, they take one turn per customer.
public actor SingleFlight<Key: Hashable & Sendable, Value: Sendable> {
    private var flights: [Key: (run: Task<Value, any Error>, callers: Int)] = [:]

    public init() {}

    /// The operation's value (or error), and whether it came from another caller's run.
    public func run(_ key: Key, _ operation: @escaping @Sendable () async throws -> Value) async throws -> (value: Value, shared: Bool) {
        if let flight = flights[key] {
            flights[key]?.callers += 1
            return (try await flight.run.value, true)
        }
        let run = Task { try await operation() }
        flights[key] = (run, 1)
        defer { flights[key] = nil }
        return (try await run.value, false)
    }

    /// How many callers wait for the key's run now (0 when none is in flight).
    public func callers(of key: Key) -> Int {
        flights[key]?.callers ?? 0
    }
}
