import Foundation
import MapDepotCore
import Testing

/// Issue #12: dates in replica queries as RFC 3339 reads them — a fraction cut to the millisecond, never rounded up
/// (`…45.4655Z` skipped a replica stamped `.466Z`), any offset (`-21:20` was refused beyond ±18:00) — and nothing else.
@Suite struct RFC3339Tests {
    static let base = Timestamp.rfc3339("2026-12-01T08:23:45Z")!

    /// Milliseconds since 1970 (what is stored and compared).
    static func ms(_ date: Date?) -> Int64? { date.map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) } }
    static func ms(after seconds: Double) -> Int64? { ms(base.addingTimeInterval(seconds)) }

    @Test func fractionsAreCutToTheMillisecond() throws {
        #expect(Self.ms(Timestamp.rfc3339("2026-12-01T08:23:45.4655Z")) == Self.ms(after: 0.465))
        #expect(Self.ms(Timestamp.rfc3339("2026-12-01T08:23:45.9999999Z")) == Self.ms(after: 0.999))
        #expect(Self.ms(Timestamp.rfc3339("2026-12-01T08:23:45.4Z")) == Self.ms(after: 0.4))
        #expect(Timestamp.string(try #require(Timestamp.rfc3339("2026-12-01T08:23:45.4655Z"))) == "2026-12-01T08:23:45.465Z")
    }

    @Test func anyOffsetRFC3339AllowsIsRead() {
        #expect(Timestamp.rfc3339("2026-12-01T08:23:45-21:20") == Self.base.addingTimeInterval(21 * 3600 + 20 * 60))
        #expect(Timestamp.rfc3339("2026-12-01T08:23:45+01:00") == Self.base.addingTimeInterval(-3600))
        #expect(Timestamp.rfc3339("2026-12-01t08:23:45z") == Self.base)
    }

    @Test(arguments: ["2026-12-01T08:23:45", "2026-12-01 08:23:45Z", "2026-13-01T08:23:45Z", "2026-02-30T08:23:45Z", "2026-12-01T24:00:00Z",
                      "2026-12-01T08:23:45.Z", "2026-12-01T08:23:45+2400", "2026-12-01T08:23:45+24:00", "today", ""])
    func anythingElseIsRefused(text: String) {
        #expect(Timestamp.rfc3339(text) == nil)
    }

    @Test func datesBeyondFourDigitYearsAreWrittenWithoutTrapping() {
        #expect(Timestamp.string(Date(timeIntervalSince1970: 5.8e16)) == "9999-12-31T23:59:59.999Z")
        #expect(Timestamp.string(Date(timeIntervalSince1970: -1e15)) == "0001-01-01T00:00:00.000Z")
    }
}
