import MapDepotCore

/// Splits a `POST /layers/{layerId}/changes` body into the elements of `upserts.features`, one byte array each, and
/// the rest of the body, as its bytes arrive (issue #15: "the 5 MB body limit becomes a streaming limit per feature,
/// so a large change set streams instead of being refused").
///
/// The splitter only finds boundaries: it follows strings (and their escapes) and brackets, and knows the keys of the
/// body's object and of its `upserts` object. The rest (`changeId`, `deletes`, the collection's `type`, with an empty
/// `features` array in place) is parsed afterwards as JSON, and each feature on its own, so every message about
/// content still comes from the parsers. What it refuses itself is what it must decide to split: a features array
/// whose elements are not objects, a missing or doubled comma between them, a feature or a rest over its limit.
///
/// A body whose keys are spelled with escapes (`"\u0075pserts"`) is not recognised here; its features then stay in
/// the rest, which the rest's own limit bounds, and the request reads the same.
public struct ChangeBodySplitter: Sendable {
    /// The largest feature, and the largest rest, in bytes.
    public let maxFeatureBytes: Int
    public let maxRestBytes: Int
    /// The body without the elements of `upserts.features` (the brackets kept, whitespace and commas between the
    /// elements dropped).
    public private(set) var rest: [UInt8] = []
    /// Features completed in all so far.
    public private(set) var featureCount = 0
    /// Features completed since the last ``take()``, and their bytes in all.
    private var completed: [[UInt8]] = []
    public private(set) var completedBytes = 0

    private var levels: [Level] = []
    private var inString = false
    private var escaped = false
    /// The string being read is a key of the body's object or of `upserts` (the only keys the split needs).
    private var collectingKey = false
    private var key: [UInt8] = []
    /// Inside an element of the features array: its bytes so far, and its bracket depth.
    private var feature: [UInt8] = []
    private var inFeature = false
    private var featureDepth = 0
    private var expecting = Expecting.firstElement

    /// One open object or array; for objects, the last key read and whether a key comes next.
    private struct Level: Sendable {
        enum Kind: Sendable { case object, array, features }
        var kind: Kind
        var key: [UInt8] = []
        var expectingKey = true
    }

    /// Where the features array is between its elements.
    private enum Expecting: Sendable { case firstElement, commaOrEnd, element }

    public init(maxFeatureBytes: Int, maxRestBytes: Int) {
        self.maxFeatureBytes = maxFeatureBytes
        self.maxRestBytes = maxRestBytes
    }

    /// The features completed since the last call, with the index of the first in `upserts.features`.
    public mutating func take() -> (first: Int, features: [[UInt8]]) {
        defer {
            completed = []
            completedBytes = 0
        }
        return (featureCount - completed.count, completed)
    }

    /// Reads the next bytes of the body.
    /// - Throws: `.invalid` where the features array is not a list of objects; `.payloadTooLarge` for a feature or a
    ///   rest over its limit.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(ServiceError) {
        var start = 0  // the first byte not yet copied to the rest or the feature
        for index in 0..<bytes.count {
            let byte = bytes[index]
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                    if collectingKey {
                        collectingKey = false
                        levels[levels.count - 1].key = key
                        continue
                    }
                }
                if collectingKey { key.append(byte) }
                continue
            }
            if inFeature {
                switch byte {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["): featureDepth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    featureDepth -= 1
                    if featureDepth == 0 {
                        try appendToFeature(bytes, start..<(index + 1))
                        start = index + 1
                        inFeature = false
                        completed.append(feature)
                        completedBytes += feature.count
                        featureCount += 1
                        feature = []
                        expecting = .commaOrEnd
                    }
                default: break
                }
                continue
            }
            if levels.last?.kind == .features {
                switch byte {
                case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                    start = index + 1
                case UInt8(ascii: ","):
                    guard expecting == .commaOrEnd else {
                        throw .invalid("upserts.features: a comma where upserts.features[\(featureCount)] was expected")
                    }
                    expecting = .element
                    start = index + 1
                case UInt8(ascii: "]"):
                    guard expecting != .element else { throw .invalid("upserts.features: a comma after the last feature") }
                    levels.removeLast()
                    start = index
                case UInt8(ascii: "{"):
                    guard expecting != .commaOrEnd else {
                        throw .invalid("upserts.features: a comma is missing before upserts.features[\(featureCount)]")
                    }
                    inFeature = true
                    featureDepth = 1
                    start = index
                default:
                    throw .invalid("upserts.features[\(featureCount)] must be a GeoJSON Feature object")
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
                if let level = levels.last, level.kind == .object, level.expectingKey, levels.count <= 2 {
                    collectingKey = true
                    key = []
                }
            case UInt8(ascii: ":"):
                if levels.last?.kind == .object { levels[levels.count - 1].expectingKey = false }
            case UInt8(ascii: ","):
                if levels.last?.kind == .object { levels[levels.count - 1].expectingKey = true }
            case UInt8(ascii: "{"):
                levels.append(Level(kind: .object))
            case UInt8(ascii: "["):
                if opensFeatures {
                    try appendToRest(bytes, start..<(index + 1))
                    start = index + 1
                    levels.append(Level(kind: .features))
                    expecting = .firstElement
                } else {
                    levels.append(Level(kind: .array))
                }
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                // An unbalanced closer is left for the rest's parser to name.
                if !levels.isEmpty { levels.removeLast() }
            default:
                break
            }
        }
        if inFeature {
            try appendToFeature(bytes, start..<bytes.count)
        } else if levels.last?.kind != .features {
            try appendToRest(bytes, start..<bytes.count)
        }
    }

    /// Checks that the body did not end inside a feature (the rest's parser finds every other early end).
    public func finish() throws(ServiceError) {
        if inFeature { throw .invalid("the request body ends inside upserts.features[\(featureCount)]") }
    }

    /// A `[` here is the `upserts.features` array: the value of `features` in the object that is the value of
    /// `upserts` in the body's object.
    private var opensFeatures: Bool {
        levels.count == 2 && levels[0].kind == .object && levels[0].key == Self.upserts && levels[1].kind == .object
            && !levels[1].expectingKey && levels[1].key == Self.features
    }

    private static let upserts = Array("upserts".utf8)
    private static let features = Array("features".utf8)

    private mutating func appendToFeature(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) throws(ServiceError) {
        feature.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[range]))
        if feature.count > maxFeatureBytes {
            throw ServiceError(.payloadTooLarge, "upserts.features[\(featureCount)] is larger than the limit of \(maxFeatureBytes) bytes for one feature")
        }
    }

    private mutating func appendToRest(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) throws(ServiceError) {
        rest.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[range]))
        if rest.count > maxRestBytes {
            throw ServiceError(.payloadTooLarge, "the request body apart from its upserts' features is larger than the limit of \(maxRestBytes) bytes")
        }
    }
}
