import Foundation

/// ISO 8601 UTC timestamps with milliseconds, the form every MapDepot date takes on the wire.
public enum Timestamp {
    public static func string(_ date: Date) -> String {
        date.formatted(
            Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: TimeZone(identifier: "UTC")!)
        )
    }

    public static func parse(_ string: String) -> Date? {
        try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(string)
            ?? Date.ISO8601FormatStyle().parse(string)
    }

    /// The timestamp MapColonies puts in package names: ISO 8601 with '-', '.', ':' turned into '_'
    /// (export-anchors §4.4).
    public static func fileNameComponent(_ date: Date) -> String {
        string(date).map { "-.:".contains($0) ? "_" : String($0) }.joined()
    }
}
