import Crypto
import Foundation
import MapDepotCore

/// AWS Signature Version 4 for S3 ("Authenticating Requests: Using the Authorization Header" and "Using Query
/// Parameters", AWS S3 API reference), with swift-crypto's HMAC-SHA256. Pure: the time is an argument.
///
/// Requests are signed over `host`, every `x-amz-*` header and any extra header the caller passes (a `range`, say);
/// the payload is named by its SHA-256 (uploads) or `UNSIGNED-PAYLOAD` (pre-signed downloads, where the client's
/// body is unknown).
public struct SigV4Signer: Sendable {
    public var accessKey: String
    public var secretKey: String
    public var region: String
    public var service = "s3"

    public init(accessKey: String, secretKey: String, region: String) {
        self.accessKey = accessKey
        self.secretKey = secretKey
        self.region = region
    }

    /// The hash of an empty body, the payload hash of GET, HEAD and DELETE.
    public static let emptyPayloadHash = Hex.encode(SHA256.hash(data: Data()))
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

    /// A request to sign: path already in its wire form (each segment percent-encoded), query as decoded pairs.
    public struct Request: Sendable {
        public var method: String
        public var host: String
        public var path: String
        public var query: [(String, String)]
        public var headers: [(String, String)]

        public init(method: String, host: String, path: String, query: [(String, String)] = [], headers: [(String, String)] = []) {
            self.method = method
            self.host = host
            self.path = path
            self.query = query
            self.headers = headers
        }
    }

    /// The headers to add to `request`: `x-amz-date`, `x-amz-content-sha256` and `Authorization`.
    public func sign(_ request: Request, payloadHash: String, date: Date) -> [(String, String)] {
        let stamp = Self.timestamp(date)
        var headers = request.headers.map { ($0.0.lowercased(), Self.trim($0.1)) }
        headers.append(("host", request.host))
        headers.append(("x-amz-date", stamp))
        headers.append(("x-amz-content-sha256", payloadHash))
        headers.sort { $0.0 < $1.0 }
        let signedHeaders = headers.map(\.0).joined(separator: ";")
        let canonical = [
            request.method, request.path, Self.canonicalQuery(request.query),
            headers.map { "\($0.0):\($0.1)\n" }.joined(), signedHeaders, payloadHash,
        ].joined(separator: "\n")
        let scope = scope(stamp)
        let signature = self.signature(canonicalRequest: canonical, stamp: stamp, scope: scope)
        return [
            ("x-amz-date", stamp),
            ("x-amz-content-sha256", payloadHash),
            ("Authorization", "AWS4-HMAC-SHA256 Credential=\(accessKey)/\(scope),SignedHeaders=\(signedHeaders),Signature=\(signature)"),
        ]
    }

    /// The query of a pre-signed URL for `request` (signed over `host` only, `UNSIGNED-PAYLOAD`), valid for
    /// `expires` seconds from `date` (S3 accepts 1 s to 7 days).
    public func presignedQuery(_ request: Request, expires: Int, date: Date) -> [(String, String)] {
        let stamp = Self.timestamp(date)
        let scope = scope(stamp)
        var query = request.query
        query.append(contentsOf: [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", "\(accessKey)/\(scope)"),
            ("X-Amz-Date", stamp),
            ("X-Amz-Expires", String(min(max(expires, 1), 604_800))),
            ("X-Amz-SignedHeaders", "host"),
        ])
        let canonical = [
            request.method, request.path, Self.canonicalQuery(query), "host:\(request.host)\n", "host", Self.unsignedPayload,
        ].joined(separator: "\n")
        query.append(("X-Amz-Signature", signature(canonicalRequest: canonical, stamp: stamp, scope: scope)))
        return query
    }

    /// `key=value` pairs sorted by encoded key (then value), each side percent-encoded as SigV4 asks.
    public static func canonicalQuery(_ query: [(String, String)]) -> String {
        let encoded: [(key: String, value: String)] = query.map { (encode($0.0), encode($0.1)) }
        let sorted = encoded.sorted { left, right in left.key == right.key ? left.value < right.value : left.key < right.key }
        return sorted.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
    }

    /// RFC 3986 percent-encoding of everything but unreserved characters (and `/` when `keepSlash`), upper-case hex.
    public static func encode(_ text: String, keepSlash: Bool = false) -> String {
        var result = ""
        for byte in text.utf8 {
            if unreserved.contains(byte) || (keepSlash && byte == UInt8(ascii: "/")) {
                result.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                result += String(format: "%%%02X", byte)
            }
        }
        return result
    }

    private static let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~".utf8)

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC.
    public static func timestamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(
            format: "%04d%02d%02dT%02d%02d%02dZ", parts.year!, parts.month!, parts.day!, parts.hour!, parts.minute!, parts.second!
        )
    }

    private func scope(_ stamp: String) -> String {
        "\(stamp.prefix(8))/\(region)/\(service)/aws4_request"
    }

    private func signature(canonicalRequest: String, stamp: String, scope: String) -> String {
        let stringToSign = [
            "AWS4-HMAC-SHA256", stamp, scope, Hex.encode(SHA256.hash(data: Data(canonicalRequest.utf8))),
        ].joined(separator: "\n")
        var key = SymmetricKey(data: Data("AWS4\(secretKey)".utf8))
        for part in [String(stamp.prefix(8)), region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return Hex.encode(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: key))
    }

    /// Header values are trimmed and inner runs of spaces folded to one.
    private static func trim(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }
}
