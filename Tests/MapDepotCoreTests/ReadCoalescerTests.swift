import MapDepotCore
import Synchronization
import Testing

/// The batching of concurrent reads (issue #9): every caller gets its own key's value, batches hold at most
/// `maxBatch` distinct keys, a failure reaches exactly the callers of that batch, and no read starts before it
/// was asked for.
@Suite struct ReadCoalescerTests {
    @Test func concurrentReadsShareBatchesAndEachGetsItsOwnValue() async throws {
        let batches = Mutex<[[Int]]>([])
        let coalescer = ReadCoalescer<Int, String>(maxBatch: 8) { keys in
            batches.withLock { $0.append(keys) }
            try await Task.sleep(for: .milliseconds(5))
            return Dictionary(uniqueKeysWithValues: keys.filter { $0 % 7 != 0 }.map { ($0, "v\($0)") })
        }
        let answers = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
            for index in 0..<200 { group.addTask { let key = index % 50; return (key, try await coalescer.value(for: key)) } }
            return try await group.reduce(into: [(Int, String?)]()) { $0.append($1) }
        }
        #expect(answers.count == 200)
        for (key, value) in answers { #expect(value == (key % 7 == 0 ? nil : "v\(key)")) }
        let seen = batches.withLock { $0 }
        #expect(seen.allSatisfy { $0.count <= 8 && Set($0).count == $0.count })
        #expect(seen.count < 200, "reads were batched: \(seen.count) batches for 200 reads")
    }

    @Test func aFailedBatchFailsItsCallersOnlyAndTheNextBatchRuns() async throws {
        struct Broken: Error {}
        let calls = Mutex(0)
        let coalescer = ReadCoalescer<Int, Int> { keys in
            let call = calls.withLock { $0 += 1; return $0 }
            if call == 1 { throw Broken() }
            return Dictionary(uniqueKeysWithValues: keys.map { ($0, $0 * 2) })
        }
        await #expect(throws: Broken.self) { try await coalescer.value(for: 1) }
        #expect(try await coalescer.value(for: 3) == 6)
    }

    @Test func aKeyAskedForDuringABatchIsReadAgainAfterIt() async throws {
        // The value changes while the first batch is in flight; a caller that arrives then must see the new value.
        let version = Mutex(0)
        let release = AsyncStream<Void>.makeStream()
        let started = AsyncStream<Void>.makeStream()
        let coalescer = ReadCoalescer<Int, Int> { keys in
            let value = version.withLock { $0 }
            if value == 0 {
                started.continuation.yield()
                for await _ in release.stream { break }
            }
            return [1: value]
        }
        async let first = coalescer.value(for: 1)
        for await _ in started.stream { break }
        version.withLock { $0 = 1 }
        async let second = coalescer.value(for: 1)
        try await Task.sleep(for: .milliseconds(20))
        release.continuation.yield()
        #expect(try await first == 0)
        #expect(try await second == 1)
    }
}

/// ``RecentReads`` (issue #9, 1,000 SSE streams on one task): concurrent and recent callers share one read; an old
/// value is read again; a failure is not kept.
@Suite struct RecentReadsTests {
    @Test func callersWithinMaxAgeShareOneRead() async throws {
        // Time moves only when the test says so: the answer does not depend on how fast this machine is.
        let clock = Mutex(ContinuousClock.now)
        let reads = Mutex(0)
        let recent = RecentReads<Int, Int>(maxAge: .milliseconds(300), now: { clock.withLock { $0 } }) { key in
            reads.withLock { $0 += 1 }
            try await Task.sleep(for: .milliseconds(20))
            return key * 10
        }
        let values = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<1_000 { group.addTask { try await recent.value(for: 7) } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(values.count == 1_000 && values.allSatisfy { $0 == 70 })
        clock.withLock { $0 += .milliseconds(299) }
        #expect(try await recent.value(for: 7) == 70)
        #expect(reads.withLock { $0 } == 1, "1,001 callers within 300 ms, one read")
        #expect(try await recent.value(for: 8) == 80)
        #expect(reads.withLock { $0 } == 2)
        clock.withLock { $0 += .milliseconds(2) }
        #expect(try await recent.value(for: 7) == 70)
        #expect(reads.withLock { $0 } == 3, "a value older than maxAge is read again")
    }

    @Test func aFailedReadIsNotKept() async throws {
        struct Broken: Error {}
        let calls = Mutex(0)
        let recent = RecentReads<Int, Int>(maxAge: .seconds(10)) { key in
            if calls.withLock({ $0 += 1; return $0 }) == 1 { throw Broken() }
            return key
        }
        await #expect(throws: Broken.self) { try await recent.value(for: 1) }
        #expect(try await recent.value(for: 1) == 1)
    }
}
