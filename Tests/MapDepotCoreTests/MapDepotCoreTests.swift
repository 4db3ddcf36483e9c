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

    @Test func secretsAreMadeOnceAndKept() throws {
        let path = try Fixtures.temporaryDirectory("secrets") + "/state.sqlite"
        let first = try SQLiteDatabase(path: path).secret(named: "k")
        #expect(first.count == 32)
        #expect(try SQLiteDatabase(path: path).secret(named: "k") == first)
        #expect(try SQLiteDatabase(path: path).secret(named: "other") != first)
    }
}

@Suite struct CanonicalJSONTests {
    @Test func keysAreSortedAndSlashesKept() throws {
        let value = try JSONValue.parse(Data(#"{"b":1,"a":{"d":"x/y","c":[1.5,2]}}"#.utf8))
        #expect(CanonicalJSON.text(value) == #"{"a":{"c":[1.5,2],"d":"x/y"},"b":1}"#)
        #expect(try CanonicalJSON.parse(CanonicalJSON.text(value)) == value)
    }
}
