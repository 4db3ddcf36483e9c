import Foundation
import GeoJSON
import MapDepotCore
import Storage
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
        let database = try SQLiteDatabase(path: try Fixtures.temporaryDirectory("tokens") + "/state.sqlite")
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
        let first = try await SQLiteDatabase(path: path).secret(named: "k")
        #expect(first.count == 32)
        #expect(try await SQLiteDatabase(path: path).secret(named: "k") == first)
        #expect(try await SQLiteDatabase(path: path).secret(named: "other") != first)
    }

    /// Issue #9: the state holds the link-signing key and token hashes; it was 0644, readable by every user.
    @Test func theStateDatabaseIsReadableByItsOwnerOnly() async throws {
        let path = try Fixtures.temporaryDirectory("secrets") + "/state.sqlite"
        _ = try await SQLiteDatabase(path: path).secret(named: "k")
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
