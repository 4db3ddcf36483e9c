import Crypto
import Foundation
import MapDepotCore

/// An order-independent hash of a layer's state (one geometry type; issue #14 item 6): the XOR of the SHA-256 of every
/// alive feature's text as a snapshot holds it (`{"type":"Feature","id":…,"geometry":…,"properties":…}`, MapDepot's
/// canonical JSON, no `diff`). A delta carries the hash of the state after it, kept incrementally (the hash before,
/// XOR every changed feature's old and new text), so a client that applied it proves its copy equals the server's by
/// hashing its own features the same way.
public struct LayerHash: Sendable, Hashable {
    /// The 32 bytes as four words (in memory order), so that adding a feature is four XORs, not 32 checked byte stores:
    /// it runs for every feature of every snapshot. Not a `SIMD4<UInt64>`: its 32-byte alignment is more than an async
    /// function's frame guarantees, and a hash held across an `await` corrupted the task allocator ("freed pointer was not
    /// the last allocation").
    private var words: Words

    /// Four 8-byte-aligned words.
    struct Words: Hashable, Sendable {
        var a: UInt64 = 0, b: UInt64 = 0, c: UInt64 = 0, d: UInt64 = 0

        static func ^= (left: inout Words, right: Words) {
            left.a ^= right.a
            left.b ^= right.b
            left.c ^= right.c
            left.d ^= right.d
        }
    }

    public init() { words = Words() }

    public init?(hex: String) {
        guard hex.utf8.count == 64 else { return nil }
        var result: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            result.append(byte)
            index = next
        }
        words = result.withUnsafeBytes { $0.loadUnaligned(as: Words.self) }
    }

    public var bytes: [UInt8] { withUnsafeBytes(of: words) { Array($0) } }

    public var hex: String { Hex.encode(bytes) }

    /// Adds a feature, or removes one added before (XOR is its own inverse).
    public mutating func toggle(_ featureText: String) {
        // Hashed in place from the string's UTF-8 (no copy into a Data, no digest array): once per feature of every
        // snapshot, delta and mirror apply.
        var text = featureText
        text.withUTF8 { toggle(text: UnsafeRawBufferPointer($0)) }
    }

    /// Adds (or removes) a feature given by its text's bytes.
    public mutating func toggle(text: UnsafeRawBufferPointer) {
        words ^= SHA256.hash(data: text).withUnsafeBytes { $0.loadUnaligned(as: Words.self) }
    }

    /// Adds (or removes) every feature of a page.
    public mutating func toggle(each texts: FeatureTexts) {
        texts.forEachText { toggle(text: $0) }
    }

    public mutating func combine(_ other: LayerHash) {
        words ^= other.words
    }
}
