import Foundation
import GeoJSON

/// JSON stored in TEXT columns.
enum JSONText {
    static func encode(_ value: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self)
    }

    static func decode(_ text: String) throws -> JSONValue {
        try JSONValue.parse(Data(text.utf8))
    }
}
