import Foundation

/// RFC 4648 §5 base64url without padding: opaque values that travel in URLs (API tokens, listing cursors).
public enum Base64URL {
    public static func encode(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func decode(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}

extension UUID {
    /// A UUID written out whole, 8-4-4-4-12 hex digits in any case: what the `uuid` format of the OpenAPI documents we
    /// answer accepts (Foundation's parser alone takes no other form either, but the length check says so plainly).
    public init?(formatted text: String) {
        guard text.utf8.count == 36, let id = UUID(uuidString: text) else { return nil }
        self = id
    }
}
