import GeoJSON
import JSONValues

extension ChangeRequest {
    /// A change set's body read straight from its bytes (issue #15: building and freeing a tree of dictionaries for every
    /// coordinate was a third of a large change set's time): the same request ``init(json:)`` makes of the parsed body,
    /// or nil at the first doubt, and the caller then goes the tree's way, which names what is wrong. Doubts include any
    /// `\u0000` escape (the tree's path refuses U+0000 with its member path), members other than `upserts`, `deletes`
    /// and `changeId` (each at most once), and a body with nothing to do.
    public static func fast(_ bytes: UnsafeBufferPointer<UInt8>) -> ChangeRequest? {
        guard !containsEscapedNul(bytes) else { return nil }
        var parser = JSONParser(bytes: bytes)
        var request = ChangeRequest()
        do {
            var seen: [String] = []
            try parser.beginObject()
            while let key = try parser.nextMember(&seen) {
                switch key {
                case "upserts":
                    if parser.peek(UInt8(ascii: "n")) {
                        guard try parser.value() == .null else { return nil }
                    } else {
                        guard let collection = FeatureCollection.fastValue(&parser) else { return nil }
                        request.upserts = collection.features
                    }
                case "deletes":
                    switch try parser.value() {
                    case .null: break
                    case .array(let items):
                        for item in items {
                            guard case .string(let id) = item else { return nil }
                            request.deletes.append(id)
                        }
                    default: return nil
                    }
                case "changeId":
                    switch try parser.value() {
                    case .null: break
                    case .string(let id): request.changeId = id
                    default: return nil
                    }
                default:
                    return nil
                }
            }
        } catch {
            return nil
        }
        parser.skipWhitespace()
        return parser.index == bytes.count && !(request.upserts.isEmpty && request.deletes.isEmpty && request.changeId == nil) ? request : nil
    }

    /// Whether `\u0000` occurs in the text (the only way JSON spells U+0000: the parser refuses a raw control byte).
    static func containsEscapedNul(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let needle = Array(#"\u0000"#.utf8)
        guard bytes.count >= needle.count else { return false }
        var index = 0
        while index <= bytes.count - needle.count {
            if bytes[index] == needle[0], bytes[index + 1] == needle[1], bytes[index + 2] == needle[2], bytes[index + 3] == needle[3],
                bytes[index + 4] == needle[4], bytes[index + 5] == needle[5]
            {
                return true
            }
            index += 1
        }
        return false
    }
}
