import Foundation
import MapDepotCore

/// Where the object store is and how to reach a bucket on it: `artifacts.location = s3://bucket/prefix` plus
/// `artifacts.s3.*` settings. Path-style addressing (`{endpoint}/{bucket}/{key}`) is the default because every
/// S3-compatible server (MinIO, Ceph, moto) answers it; AWS wants virtual-hosted style (`{bucket}.{host}/{key}`).
public struct S3Endpoint: Sendable, Equatable {
    public var scheme: String
    public var host: String
    public var port: Int?
    public var bucket: String
    /// Object keys start with this (no leading or trailing `/`), so one bucket can hold several deployments.
    public var prefix: String
    public var pathStyle: Bool

    public init(scheme: String, host: String, port: Int?, bucket: String, prefix: String, pathStyle: Bool) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.bucket = bucket
        self.prefix = prefix
        self.pathStyle = pathStyle
    }

    /// `location` is `s3://bucket[/prefix]`; `endpoint` an `http(s)://host[:port]` URL (default AWS's for `region`).
    public init(location: String, endpoint: String?, region: String, pathStyle: Bool) throws {
        guard location.hasPrefix("s3://") else { throw ServiceError.invalid("artifact location \(location) is not s3://bucket/prefix") }
        let rest = location.dropFirst("s3://".count)
        let bucket = String(rest.prefix { $0 != "/" })
        guard !bucket.isEmpty, bucket.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." }) else {
            throw ServiceError.invalid("artifact location \(location) names no valid bucket")
        }
        let prefix = rest.dropFirst(bucket.count).split(separator: "/").joined(separator: "/")
        let base = endpoint ?? "https://s3.\(region).amazonaws.com"
        guard let url = URLComponents(string: base), let scheme = url.scheme, scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty
        else { throw ServiceError.invalid("S3 endpoint \(base) is not an http(s)://host[:port] URL") }
        self.init(scheme: scheme, host: host, port: url.port, bucket: bucket, prefix: prefix, pathStyle: pathStyle)
    }

    /// The object key of an artifact key.
    public func objectKey(_ key: String) -> String {
        prefix.isEmpty ? key : "\(prefix)/\(key)"
    }

    /// The `Host` header: the host, with the port unless it is the scheme's default.
    public var hostHeader: String {
        let name = pathStyle ? host : "\(bucket).\(host)"
        guard let port, port != (scheme == "https" ? 443 : 80) else { return name }
        return "\(name):\(port)"
    }

    /// The request path of an object (or of the bucket when `objectKey` is nil), percent-encoded per segment.
    public func path(objectKey: String?) -> String {
        let key = objectKey.map { SigV4Signer.encode($0, keepSlash: true) }
        if pathStyle { return "/\(bucket)" + (key.map { "/\($0)" } ?? "") }
        return "/" + (key ?? "")
    }

    /// The full URL of `path` with an already-canonical query string.
    public func url(path: String, query: String) -> String {
        "\(scheme)://\(hostHeader)\(path)" + (query.isEmpty ? "" : "?\(query)")
    }
}
