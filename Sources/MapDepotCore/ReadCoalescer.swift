/// Turns concurrent point reads into one batched read: group commit, for reads (issue #9, `bench http`).
///
/// Every database read hops off Swift's cooperative pool (GRDB's reader queues, or a PostgreSQL round trip) and
/// back; under 64 clients polling task status, the hops and the thread wake-ups they cause cost three times the
/// read itself (measured: an authenticated route answering 37,800 req/s fell to 12,300 with one task read). While
/// one batch is being read, the keys asked for meanwhile wait for the next batch, which reads them all in one go.
///
/// A read never starts before it was asked for: keys are taken when a batch starts, and a key that arrives while a
/// batch is in flight waits for the next one — so a client that wrote and then reads sees its write.
public actor ReadCoalescer<Key: Hashable & Sendable, Value: Sendable> {
    public typealias Fetch = @Sendable ([Key]) async throws -> [Key: Value]

    private let fetch: Fetch
    private let maxBatch: Int
    private var waiting: [Key: [CheckedContinuation<Value?, any Error>]] = [:]
    private var order: [Key] = []
    private var draining = false

    /// - Parameters:
    ///   - maxBatch: the most keys read at once (a batch's statement has one parameter per key).
    ///   - fetch: reads the values of the given distinct keys; a key without a value is left out of the answer.
    public init(maxBatch: Int = 64, fetch: @escaping Fetch) {
        precondition(maxBatch >= 1, "a batch holds at least one key")
        self.maxBatch = maxBatch
        self.fetch = fetch
    }

    /// The value of `key`, read in the next batch; `nil` when there is none.
    public func value(for key: Key) async throws -> Value? {
        try await withCheckedThrowingContinuation { continuation in
            if waiting[key] == nil { order.append(key) }
            waiting[key, default: []].append(continuation)
            if !draining {
                draining = true
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while !order.isEmpty {
            let keys = Array(order.prefix(maxBatch))
            order.removeFirst(keys.count)
            var batch: [(Key, [CheckedContinuation<Value?, any Error>])] = []
            batch.reserveCapacity(keys.count)
            for key in keys { batch.append((key, waiting.removeValue(forKey: key) ?? [])) }
            do {
                let values = try await fetch(keys)
                for (key, continuations) in batch { for continuation in continuations { continuation.resume(returning: values[key]) } }
            } catch {
                for (_, continuations) in batch { for continuation in continuations { continuation.resume(throwing: error) } }
            }
        }
        draining = false
    }
}
