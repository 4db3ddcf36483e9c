import Foundation

/// ISO 8601 UTC timestamps with milliseconds, the form every MapDepot date takes on the wire and in storage.
///
/// Formatting goes through integer milliseconds: a parsed `…06.209Z` is 0.208999… as a Double, and a
/// formatter that truncates would write it back as `.208`. Stored strings of this one format also sort
/// in time order, which the stores rely on.
public enum Timestamp {
    /// Written by hand from the civil calendar (days ↔ year/month/day, Hinnant's algorithm): Foundation's
    /// `ISO8601FormatStyle` was 4 % of a task read's CPU under load (issue #9, `bench http`).
    /// Dates outside years 1–9999 are written as the nearest of those (ISO 8601's four-digit years), never a trap.
    public static func string(_ date: Date) -> String {
        let milliseconds = Int64(min(max((date.timeIntervalSince1970 * 1000).rounded(), -62_135_596_800_000), 253_402_300_799_999))
        let (days, msOfDay) = floorDivision(milliseconds, 86_400_000)
        let (year, month, day) = civil(days: days)
        var bytes = [UInt8](repeating: 0, count: 24)
        func put(_ value: Int64, _ at: Int, _ width: Int) {
            var value = value
            for index in stride(from: at + width - 1, through: at, by: -1) {
                bytes[index] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
        }
        guard (0...9999).contains(year) else {
            let base = Date(timeIntervalSince1970: Double(days * 86_400 + msOfDay / 1000))
                .formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: false, timeZone: TimeZone(identifier: "UTC")!))
            return String(base.dropLast()) + "." + String(format: "%03lld", msOfDay % 1000) + "Z"
        }
        put(year, 0, 4); bytes[4] = UInt8(ascii: "-"); put(month, 5, 2); bytes[7] = UInt8(ascii: "-"); put(day, 8, 2)
        bytes[10] = UInt8(ascii: "T"); put(msOfDay / 3_600_000, 11, 2); bytes[13] = UInt8(ascii: ":")
        put(msOfDay / 60_000 % 60, 14, 2); bytes[16] = UInt8(ascii: ":"); put(msOfDay / 1000 % 60, 17, 2)
        bytes[19] = UInt8(ascii: "."); put(msOfDay % 1000, 20, 3); bytes[23] = UInt8(ascii: "Z")
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The date to the millisecond, as it will read back from ``string(_:)``.
    public static func milliseconds(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded() / 1000)
    }

    /// Our own form (`2026-01-01T00:00:00.209Z`, every stored date) is read by hand; any other ISO 8601 form
    /// (a client's offset, no fraction) goes to Foundation.
    public static func parse(_ string: String) -> Date? {
        if let date = parseCanonical(string) { return date }
        return (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(string))
            ?? (try? Date.ISO8601FormatStyle().parse(string))
    }

    private static func parseCanonical(_ string: String) -> Date? {
        var string = string
        return string.withUTF8 { bytes -> Date? in
            guard bytes.count == 24, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"),
                bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"), bytes[19] == UInt8(ascii: "."), bytes[23] == UInt8(ascii: "Z")
            else { return nil }
            func number(_ at: Int, _ width: Int) -> Int64? {
                var value: Int64 = 0
                for index in at..<(at + width) {
                    let digit = bytes[index] &- UInt8(ascii: "0")
                    guard digit < 10 else { return nil }
                    value = value * 10 + Int64(digit)
                }
                return value
            }
            guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
                let minute = number(14, 2), let second = number(17, 2), let millisecond = number(20, 3),
                (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day), hour < 24, minute < 60, second < 60
            else { return nil }
            let days = self.days(year: year, month: month, day: day)
            let total = ((days * 24 + hour) * 60 + minute) * 60 + second
            return Date(timeIntervalSince1970: Double(total * 1000 + millisecond) / 1000)
        }
    }

    /// RFC 3339 `date-time`, read by hand (issue #12): any fraction, cut to the millisecond (never rounded up: a
    /// client's `exclusive_from=…45.4655Z` must not skip a replica stamped `.466Z`), `Z` or any offset RFC 3339
    /// allows (`-21:20` included; Foundation refused beyond ±18:00). Nil for anything else.
    public static func rfc3339(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        func number(_ at: Int, _ width: Int) -> Int64? {
            guard at + width <= bytes.count else { return nil }
            var value: Int64 = 0
            for index in at..<(at + width) {
                let digit = bytes[index] &- UInt8(ascii: "0")
                guard digit < 10 else { return nil }
                value = value * 10 + Int64(digit)
            }
            return value
        }
        guard bytes.count >= 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), [UInt8(ascii: "T"), UInt8(ascii: "t")].contains(bytes[10]),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2), let minute = number(14, 2),
            let second = number(17, 2), (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day), hour < 24, minute < 60,
            second < 61
        else { return nil }
        var index = 19
        var millisecond: Int64 = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < bytes.count, bytes[index] &- UInt8(ascii: "0") < 10 {
                if index - start < 3 { millisecond = millisecond * 10 + Int64(bytes[index] - UInt8(ascii: "0")) }
                index += 1
            }
            guard index > start else { return nil }
            for _ in min(3, index - start)..<3 { millisecond *= 10 }
        }
        guard index < bytes.count else { return nil }
        var offset: Int64 = 0
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard index + 1 == bytes.count else { return nil }
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard index + 6 == bytes.count, bytes[index + 3] == UInt8(ascii: ":"), let hours = number(index + 1, 2), let minutes = number(index + 4, 2),
                hours < 24, minutes < 60
            else { return nil }
            offset = (hours * 60 + minutes) * 60 * (bytes[index] == UInt8(ascii: "-") ? -1 : 1)
        default:
            return nil
        }
        let total = ((days(year: year, month: month, day: day) * 24 + hour) * 60 + minute) * 60 + min(second, 59) - offset
        return Date(timeIntervalSince1970: Double(total * 1000 + millisecond) / 1000)
    }

    private static func floorDivision(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    private static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let year = month <= 2 ? year - 1 : year
        let era = (year >= 0 ? year : year - 399) / 400
        let yearOfEra = year - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian date of a count of days since 1970-01-01.
    private static func civil(days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// The timestamp MapColonies puts in package names: ISO 8601 with '-', '.', ':' turned into '_'
    /// (export-anchors §4.4).
    public static func fileNameComponent(_ date: Date) -> String {
        string(date).map { "-.:".contains($0) ? "_" : String($0) }.joined()
    }
}
