import Crypto
import Foundation
import MapDepotCore

/// An order-independent hash of a layer's state (one geometry type; issue #14 item 6): the XOR of the SHA-256 of every
/// alive feature's text as a snapshot holds it (`{"type":"Feature","id":…,"geometry":…,"properties":…}`, MapDepot's
/// canonical JSON, no `diff`). A delta carries the hash of the state after it, kept incrementally (the hash before,
/// XOR every changed feature's old and new text), so a client that applied it proves its copy equals the server's by
/// hashing its own features the same way.
public struct LayerHash: Sendable, Hashable {
    public private(set) var bytes: [UInt8]

    public init() { bytes = [UInt8](repeating: 0, count: 32) }

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
        bytes = result
    }

    public var hex: String { Hex.encode(bytes) }

    /// Adds a feature, or removes one added before (XOR is its own inverse).
    public mutating func toggle(_ featureText: String) {
        // Hashed in place from the string's UTF-8 (no copy into a Data, no digest array): once per feature of every
        // snapshot, delta and mirror apply.
        var text = featureText
        let digest = text.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
        digest.withUnsafeBytes { digest in
            for index in 0..<32 { bytes[index] ^= digest[index] }
        }
    }

    public mutating func combine(_ other: LayerHash) {
        for index in 0..<32 { bytes[index] ^= other.bytes[index] }
    }
}
