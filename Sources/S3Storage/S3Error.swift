import Foundation
import MapDepotCore

/// A request the object store refused: its status and S3's `<Error><Code>` / `<Message>`.
public struct S3Error: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var status: Int
    public var code: String
    public var message: String

    public var description: String { "S3 \(operation) failed: HTTP \(status) \(code) \(message)".trimmingCharacters(in: .whitespaces) }

    /// Worth another try: throttling and server-side failures.
    var isTransient: Bool { status >= 500 || status == 429 || code == "SlowDown" || code == "RequestTimeout" }

    init(operation: String, status: Int, code: String, message: String) {
        self.operation = operation
        self.status = status
        self.code = code
        self.message = message
    }

    /// From S3's `<Error><Code>…</Code><Message>…</Message></Error>` answer.
    init(operation: String, status: Int, body: String) {
        self.init(
            operation: operation, status: status, code: XMLText.values(of: "Code", in: body).first ?? "",
            message: XMLText.values(of: "Message", in: body).first ?? ""
        )
    }
}

/// The few values MapDepot reads from S3's XML answers (upload ids, listed keys, error codes). S3's answers are
/// flat and machine-written, so a tag scan with entity decoding reads them without an XML parser.
enum XMLText {
    /// The text of every `<tag>…</tag>` in order.
    static func values(of tag: String, in xml: String) -> [String] {
        var values: [String] = []
        var rest = xml[...]
        let open = "<\(tag)>", close = "</\(tag)>"
        while let start = rest.range(of: open), let end = rest.range(of: close, range: start.upperBound..<rest.endIndex) {
            values.append(decode(rest[start.upperBound..<end.lowerBound]))
            rest = rest[end.upperBound...]
        }
        return values
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    private static func decode(_ text: Substring) -> String {
        guard text.contains("&") else { return String(text) }
        return text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&#34;", with: "\"").replacingOccurrences(of: "&amp;", with: "&")
    }
}
