import Foundation
import MapDepotCore
import PropertyBased
import Testing

/// Issue #9 item 7: random and mutated `Range` headers and download paths. `MAPDEPOT_FUZZ_INPUTS` sets the count per
/// property (CI: 2,000; the benchmark run in the README: 1,000,000).
@Suite struct DownloadInputFuzzTests {
    static var count: Int { Int(ProcessInfo.processInfo.environment["MAPDEPOT_FUZZ_INPUTS"] ?? "") ?? 2_000 }

    /// Characters a `Range` header is made of, and some it must not be confused by.
    static let rangeAlphabet: [String] = "bytes=0123456789-, \t+x;".map(String.init) + ["99999999999999999999", "-0", "bytes=", "é"]

    /// Whatever the header, a partial answer lies inside the file, and a size-0 file is never partial.
    @Test func anyRangeHeaderGivesARangeInsideTheFile() async {
        await propertyCheck(count: Self.count, input: Gen.element(of: Self.rangeAlphabet).array(of: 0...24), Gen.int(in: 0...100_000)) { parts, size in
            let header = parts.compactMap { $0 }.joined()
            for candidate in [header, "bytes=" + header] {
                if case .partial(let range) = ByteRange.parse(candidate, size: size) {
                    #expect(range.lowerBound >= 0 && range.upperBound < size, "\(candidate) size \(size): \(range)")
                }
            }
        }
    }

    /// Well-formed ranges against RFC 9110 §14.1.2's rules, as an oracle.
    @Test func wellFormedRangesFollowTheRFC() async {
        await propertyCheck(count: Self.count, input: Gen.int(in: 0...5_000), Gen.int(in: 0...6_000), Gen.int(in: 0...6_000)) { size, first, last in
            let closed = ByteRange.parse("bytes=\(first)-\(last)", size: size)
            if first >= size {
                #expect(closed == .unsatisfiable || (last < first && closed == .whole))
            } else if last < first {
                #expect(closed == .whole)
            } else {
                #expect(closed == .partial(first...min(last, size - 1)))
            }
            let open = ByteRange.parse("bytes=\(first)-", size: size)
            #expect(open == (first < size ? .partial(first...(size - 1)) : .unsatisfiable))
            let suffix = ByteRange.parse("bytes=-\(last)", size: size)
            #expect(suffix == (last > 0 && size > 0 ? .partial(max(0, size - last)...(size - 1)) : .unsatisfiable))
        }
    }

    static let pathAlphabet: [String] = ["a", "b", "7", "/", "/", ".", "..", "%2e", "%2F", "\0", "-", "_", " ", "é", "~", ".staging", "exports"]

    /// A download path accepted as safe never leaves the store: resolved against a root, it stays under it, and it has
    /// no hidden, empty, `.` or `..` segment.
    @Test func aSafePathNeverLeavesTheStore() async {
        await propertyCheck(count: Self.count, input: Gen.element(of: Self.pathAlphabet).array(of: 0...16)) { parts in
            let key = parts.compactMap { $0 }.joined()
            guard ArtifactKey.isSafe(key) else { return }
            let root = URL(fileURLWithPath: "/srv/mapdepot/artifacts")
            let resolved = root.appendingPathComponent(key).standardizedFileURL.path
            #expect(resolved.hasPrefix(root.path + "/"), "\(key) → \(resolved)")
            #expect(!key.hasPrefix("/") && !key.contains("\0"))
            #expect(key.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { !$0.isEmpty && !$0.hasPrefix(".") })
        }
    }
}
