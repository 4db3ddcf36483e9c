import MapDepotCore
import Synchronization
import Testing

/// Sharing of in-flight operations (issue #15's admission bursts): callers of one key while it runs share its outcome,
/// value or error; other keys run on their own; a caller after it ends runs it again.
@Suite struct SingleFlightTests {
    /// The keys whose operation ran, shared with the callers' tasks.
    final class Runs: Sendable {
        let keys = Mutex<[Int]>([])
    }

    @Test func callersOfAKeyInFlightShareOneRunAndOtherKeysRunTheirOwn() async throws {
        let runs = Runs()
        let release = AsyncStream<Void>.makeStream()
        let flights = SingleFlight<Int, String>()
        let results = try await withThrowingTaskGroup(of: (Int, String, Bool).self) { group in
            for index in 0..<40 {
                group.addTask {
                    let key = index % 2
                    let (value, shared) = try await flights.run(key) {
                        runs.keys.withLock { $0.append(key) }
                        for await _ in release.stream { break }
                        return "v\(key)"
                    }
                    return (key, value, shared)
                }
            }
            while true {
                let waiting = (await flights.callers(of: 0), await flights.callers(of: 1))
                if waiting.0 == 20 && waiting.1 == 20 { break }
                try await Task.sleep(for: .milliseconds(1))
            }
            release.continuation.finish()
            return try await group.reduce(into: [(Int, String, Bool)]()) { $0.append($1) }
        }
        #expect(results.count == 40)
        #expect(results.allSatisfy { $0.1 == "v\($0.0)" })
        #expect(runs.keys.withLock { $0.sorted() } == [0, 1])
        #expect(results.filter { !$0.2 }.count == 2, "one run per key, every other caller shared it")
        // Ended: the next caller runs it again.
        #expect(await flights.callers(of: 0) == 0)
        let again = try await flights.run(0) { "again" }
        #expect(again.value == "again" && !again.shared)
    }

    @Test func aFailedRunFailsItsSharersAndIsNotKept() async throws {
        struct Broken: Error {}
        let release = AsyncStream<Void>.makeStream()
        let flights = SingleFlight<String, Int>()
        let first = Task {
            try await flights.run("k") {
                for await _ in release.stream { break }
                throw Broken()
            }
        }
        let second = Task { try await flights.run("k") { 2 } }
        while await flights.callers(of: "k") < 2 { try await Task.sleep(for: .milliseconds(1)) }
        release.continuation.finish()
        await #expect(throws: Broken.self) { try await first.value }
        await #expect(throws: Broken.self) { try await second.value }
        #expect(try await flights.run("k") { 3 }.value == 3)
    }
}
