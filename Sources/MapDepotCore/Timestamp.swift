import Foundation

/// ISO 8601 UTC timestamps with milliseconds, the form every MapDepot date takes on the wire and in storage.
///
/// Formatting goes through integer milliseconds: a parsed `…06.209Z` is 0.208999… as a Double, and a
/// formatter that truncates would write it back as `.208`. Stored strings of this one format also sort
/// in time order, which the stores rely on.
public enum Timestamp {
    public static func string(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let seconds = milliseconds.quotientAndRemainder(dividingBy: 1000)
        let whole = seconds.remainder < 0 ? seconds.quotient - 1 : seconds.quotient
        let fraction = seconds.remainder < 0 ? seconds.remainder + 1000 : seconds.remainder
        let base = Date(timeIntervalSince1970: Double(whole))
            .formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: false, timeZone: TimeZone(identifier: "UTC")!))
        return String(base.dropLast()) + "." + String(format: "%03lld", fraction) + "Z"
    }

    /// The date to the millisecond, as it will read back from ``string(_:)``.
    public static func milliseconds(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded() / 1000)
    }

    public static func parse(_ string: String) -> Date? {
        (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(string))
            ?? (try? Date.ISO8601FormatStyle().parse(string))
    }

    /// The timestamp MapColonies puts in package names: ISO 8601 with '-', '.', ':' turned into '_'
    /// (export-anchors §4.4).
    public static func fileNameComponent(_ date: Date) -> String {
        string(date).map { "-.:".contains($0) ? "_" : String($0) }.joined()
    }
}
