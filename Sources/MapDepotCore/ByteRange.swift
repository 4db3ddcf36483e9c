/// A single-range `Range: bytes=…` header (RFC 9110 §14.1.2). Multiple ranges are answered with the whole
/// file, which RFC 9110 allows.
public enum ByteRange {
    public enum Outcome: Equatable, Sendable {
        case whole
        case partial(ClosedRange<Int>)
        case unsatisfiable
    }

    public static func parse(_ header: String?, size: Int) -> Outcome {
        guard let header, header.hasPrefix("bytes=") else { return .whole }
        let spec = header.dropFirst("bytes=".count)
        guard !spec.contains(",") else { return .whole }
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return .whole }
        let first = trimmed(parts[0])
        let last = trimmed(parts[1])
        if first.isEmpty {
            // Suffix range: the last N bytes.
            guard let count = Int(last), count > 0 else { return .unsatisfiable }
            guard size > 0 else { return .unsatisfiable }
            return .partial(max(0, size - count)...(size - 1))
        }
        guard let start = Int(first), start >= 0 else { return .whole }
        guard start < size else { return .unsatisfiable }
        if last.isEmpty { return .partial(start...(size - 1)) }
        guard let end = Int(last), end >= start else { return .whole }
        return .partial(start...min(end, size - 1))
    }

    /// Without the optional whitespace (spaces, tabs) RFC 9110 allows around the numbers.
    private static func trimmed(_ text: Substring) -> Substring {
        var text = text
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }
}
