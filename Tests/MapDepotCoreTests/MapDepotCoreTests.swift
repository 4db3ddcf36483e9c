import Foundation
import GeoJSON
import JSONValues
import MapDepotCore
import SQLiteStorage
import Testing
import TestSupport

@Suite struct TimestampTests {
    @Test func roundTripsToTheMillisecond() throws {
        for milliseconds in [0, 1, 209, 999, 1_767_225_600_123, 1_800_000_000_001] {
            let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
            let text = Timestamp.string(date)
            #expect(Timestamp.string(try #require(Timestamp.parse(text))) == text)
            #expect(text.hasSuffix("Z") && text.count == 24)
        }
        #expect(Timestamp.string(Date(timeIntervalSince1970: 1_767_225_600.2085)) == "2026-01-01T00:00:00.209Z")
        #expect(Timestamp.fileNameComponent(Date(timeIntervalSince1970: 0)) == "1970_01_01T00_00_00_000Z")
    }

    @Test func stringsSortInTimeOrder() {
        let dates = (0..<50).map { Date(timeIntervalSince1970: Double($0 * 7_919) * 31.7) }
        #expect(dates.sorted().map(Timestamp.string) == dates.map(Timestamp.string).sorted())
    }
}

@Suite struct TokenServiceTests {
    @Test func tokensAreStoredHashedScopedAndExpire() async throws {
        let database = try await SQLiteDatabase.open(path: try Fixtures.temporaryDirectory("tokens") + "/state.sqlite")
        let clock = TestClock()
        let service = TokenService(store: SQLiteTokenStore(database: database), clock: clock)
        let token = try await service.create(subject: "alice", scopes: [.export], lifetime: 60)
        #expect(token.hasPrefix("mdp_") && token.count > 40)
        #expect(try await SQLiteTokenStore(database: database).token(hash: token) == nil)
        let principal = try await service.authenticate(token)
        #expect(principal == Principal(subject: "alice", scopes: [.export]))
        #expect(throws: ServiceError.self) { try principal.require(.admin) }
        #expect(Principal(subject: "root", scopes: [.admin]).has(.replicationWrite))
        clock.advance(61)
        await #expect(throws: ServiceError.self) { try await service.authenticate(token) }
        await #expect(throws: ServiceError(.unauthenticated, "the token is not valid")) { try await service.authenticate("mdp_x") }
        await #expect(throws: ServiceError.self) { try await service.create(subject: "", scopes: [.export], lifetime: nil) }
    }

    @Test func secretsAreMadeOnceAndKept() async throws {
        let path = try Fixtures.temporaryDirectory("secrets") + "/state.sqlite"
        let first = try await SQLiteDatabase.open(path: path).secret(named: "k")
        #expect(first.count == 32)
        #expect(try await SQLiteDatabase.open(path: path).secret(named: "k") == first)
        #expect(try await SQLiteDatabase.open(path: path).secret(named: "other") != first)
    }

    /// Issue #9: the state holds the link-signing key and token hashes; it was 0644, readable by every user.
    @Test func theStateDatabaseIsReadableByItsOwnerOnly() async throws {
        let path = try Fixtures.temporaryDirectory("secrets") + "/state.sqlite"
        _ = try await SQLiteDatabase.open(path: path).secret(named: "k")
        for file in [path, path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: file) {
            let mode = try #require(try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int)
            #expect(mode & 0o077 == 0, "\(file) is \(String(mode, radix: 8))")
        }
        // An existing world-readable file is tightened when opened.
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        _ = try SQLiteDatabase(path: path)
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        #expect(mode == 0o600)
    }
}

@Suite struct CanonicalJSONTests {
    @Test func keysAreSortedAndSlashesKept() throws {
        let value = try JSONValue.parse(Data(#"{"b":1,"a":{"d":"x/y","c":[1.5,2]}}"#.utf8))
        #expect(CanonicalJSON.text(value) == #"{"a":{"c":[1.5,2],"d":"x/y"},"b":1}"#)
        #expect(try CanonicalJSON.parse(CanonicalJSON.text(value)) == value)
    }
}

/// The hand-written formatter and parser against Foundation's whole-second formatting (the fraction is ours: its
/// formatter truncates) over the Gregorian years Foundation agrees on (it is Julian before 1582) (issue #9).
@Suite struct TimestampAgreementTests {
    @Test func agreesWithFoundationEverywhere() throws {
        var generator = SystemRandomNumberGenerator()
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: false, timeZone: TimeZone(identifier: "UTC")!)
        func foundation(_ milliseconds: Int64) -> String {
            let (seconds, fraction) = (milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000, ((milliseconds % 1000) + 1000) % 1000)
            return String(Date(timeIntervalSince1970: Double(seconds)).formatted(style).dropLast()) + "." + String(format: "%03lld", fraction) + "Z"
        }
        let edges: [Int64] = [0, -1, 86_399_999, 951_782_400_000, 4_102_444_800_000, -2_208_988_800_001, 253_402_300_799_999, -12_212_553_600_000]
        for milliseconds in edges + (0..<20_000).map({ _ in Int64.random(in: -12_000_000_000_000...253_402_300_799_999, using: &generator) }) {
            let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
            let text = Timestamp.string(date)
            #expect(text == foundation(milliseconds), "\(milliseconds)")
            #expect(Timestamp.parse(text).map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) } == milliseconds, "\(text)")
        }
        // Out-of-range fields leave the fast path and get Foundation's (lenient) reading, as before.
        #expect(Timestamp.parse("2026-02-30T00:00:00.000Z") == (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse("2026-02-30T00:00:00.000Z")))
        #expect(Timestamp.parse("2026-01-01T00:00:00.0a0Z") == nil)
        #expect(Timestamp.parse("2026-01-01T02:00:00.000+02:00") == Date(timeIntervalSince1970: 1_767_225_600))
    }
}

/// An adapter's own failure is the server's fault: no `ServiceError` (so never a 400), a full disk reported as such
/// (issue #10, "adapters report disk, rename and SQLite failures as `.invalid`").
@Suite struct StorageFailureTests {
    @Test func aFullDiskIsFullAndOtherFailuresAreNoCondition() {
        #expect(StorageCondition.of(StorageFailure.posix("could not publish x", code: ENOSPC)) == .full)
        #expect(StorageCondition.of(StorageFailure.posix("could not publish x", code: EDQUOT)) == .full)
        #expect(StorageCondition.of(StorageFailure.posix("could not publish x", code: EXDEV)) == nil)
        #expect(StorageCondition.of(StorageFailure("staged file gone")) == nil)
        #expect(!(StorageFailure("staged file gone") as any Error is ServiceError))
        #expect(StorageFailure.posix("could not publish x", code: ENOENT).description == "could not publish x: No such file or directory")
    }
}
