/// A page of a snapshot as its GeoJSON files hold it: the alive features' texts (``FeatureState/featureText(diff:)``)
/// back to back, comma-separated, built by the store straight from its rows' bytes.
///
/// Why not `[FeatureState]`: a million-feature snapshot spent a third of its time making and freeing the three strings
/// of each state and its text (issue #15's profile). Here a page is two arrays; the writer copies its bytes into a
/// file in one piece and the layer hash reads each text where it lies.
public struct FeatureTexts: Sendable {
    /// The texts, each followed by a comma but the last.
    public private(set) var bytes: [UInt8] = []
    /// Where each text ends in ``bytes`` (exclusive); text `i` starts one past text `i − 1`'s end (its comma).
    public private(set) var ends: [Int] = []
    /// The last feature's id: the next page starts after it.
    public var lastId = ""

    public init(reservingFeatures features: Int = 0, bytes: Int = 0) {
        self.bytes.reserveCapacity(bytes)
        ends.reserveCapacity(features)
    }

    public var count: Int { ends.count }

    /// Where text `index` starts in ``bytes``.
    public func start(of index: Int) -> Int {
        index == 0 ? 0 : ends[index - 1] + 1
    }

    /// Appends a feature from its stored columns' UTF-8: its id, canonical geometry and canonical properties.
    public mutating func append(id: UnsafeBufferPointer<UInt8>, geometry: UnsafeBufferPointer<UInt8>, properties: UnsafeBufferPointer<UInt8>) {
        if !ends.isEmpty { bytes.append(UInt8(ascii: ",")) }
        FeatureState.writeText(id: id, geometry: geometry, properties: properties, diff: nil, into: &bytes)
        ends.append(bytes.count)
    }

    /// Takes the last text back (a store that found a newer version of its feature after appending it).
    public mutating func removeLast() {
        let start = start(of: ends.count - 1)
        ends.removeLast()
        bytes.removeSubrange((ends.isEmpty ? start : start - 1)...)
    }

    public mutating func append(_ state: FeatureState) {
        var state = state
        state.id.withUTF8 { id in
            state.geometry.withUTF8 { geometry in
                state.properties.withUTF8 { properties in append(id: id, geometry: geometry, properties: properties) }
            }
        }
        lastId = state.id
    }

    /// Calls `body` with every text's bytes, in order.
    public func forEachText(_ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        try bytes.withUnsafeBytes { all in
            for index in 0..<ends.count {
                try body(UnsafeRawBufferPointer(rebasing: all[start(of: index)..<ends[index]]))
            }
        }
    }
}
