import Foundation
import JSONValues

extension Feature {
    /// Decodes one Feature document straight from its bytes (an element of a streamed change set, issue #15): the fast
    /// reader of ``FeatureCollection/init(data:path:)`` when it takes the text, else the tree, whose errors name the
    /// member under `path`.
    public init(bytes: UnsafeRawBufferPointer, path: String) throws {
        let typed = bytes.bindMemory(to: UInt8.self)
        var reader = FeatureCollectionReader(parser: JSONParser(bytes: typed))
        if let fast = try? reader.featureDocument() {
            self = fast
            return
        }
        try self.init(json: try JSONValue.parse(Data(bytes)), path: path)
    }
}

extension FeatureCollectionReader {
    /// A Feature object and nothing after it but whitespace.
    mutating func featureDocument() throws -> Feature {
        parser.skipWhitespace()
        let feature = try feature()
        parser.skipWhitespace()
        guard parser.index == parser.bytes.count else { throw Decline() }
        return feature
    }
}
