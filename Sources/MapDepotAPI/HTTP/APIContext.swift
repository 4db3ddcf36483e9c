import ExportCore
import Foundation
import GeoJSON
import HTTPTypes
import Hummingbird
import JSONValues
import MapDepotCore
import NIOCore

/// What the route handlers share: the services, and the two things every handler does first (who is
/// calling; what did they send).
struct APIContext: Sendable {
    let components: MapDepotComponents

    /// The caller, from header `x-api-key` or query `token` (the MapColonies convention, export-anchors §6).
    func principal(_ request: Request, requiring scope: Scope) async throws -> Principal {
        let principal = try await principal(request)
        try principal.require(scope)
        return principal
    }

    /// The caller, whatever it may do.
    func principal(_ request: Request) async throws -> Principal {
        let token = request.headers[HTTPField.Name("x-api-key")!] ?? request.uri.queryParameters.get("token")
        return try await components.tokens.authenticate(token)
    }

    /// The body as JSON, refusing bodies above the configured size (413) and non-JSON (400).
    func json(_ request: Request) async throws -> JSONValue {
        try Self.json(try await body(request))
    }

    /// The body's bytes, refusing bodies above the configured size (413) and empty ones (400).
    func body(_ request: Request) async throws -> Data {
        var request = request
        let buffer = try await request.collectBody(upTo: components.config.http.maxBodyBytes)
        guard buffer.readableBytes > 0 else { throw ServiceError.invalid("the request body is empty; a JSON object is expected") }
        return Data(buffer.readableBytesView)
    }

    static func json(_ bytes: Data) throws -> JSONValue {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch let error as GeoJSONError {
            throw ServiceError.invalid("the request body is \(error.reason)")
        }
        // JSON allows U+0000 in strings; no store of ours keeps it (PostgreSQL's text refuses it: a 500 Schemathesis
        // found, issue #12), and no name, id or property needs it.
        if let path = Self.nul(in: value, path: "") { throw ServiceError.invalid("\(path.isEmpty ? "the body" : path) holds the character U+0000, which is not allowed") }
        return value
    }

    /// The member path of the first string (or key) holding U+0000, if any.
    static func nul(in value: JSONValue, path: String) -> String? {
        switch value {
        case .string(let text): return text.utf8.contains(0) ? path : nil
        case .array(let items):
            for (index, item) in items.enumerated() { if let found = nul(in: item, path: "\(path)[\(index)]") { return found } }
            return nil
        case .object(let members):
            for (key, member) in members {
                let inner = path.isEmpty ? key : "\(path).\(key)"
                if key.utf8.contains(0) { return inner }
                if let found = nul(in: member, path: inner) { return found }
            }
            return nil
        case .null, .bool, .number: return nil
        }
    }

    /// The URL clients download an artifact from (replica zips; export artifacts use signed links).
    func url(for key: String) -> String {
        components.links.url(for: key, expires: nil)
    }
}

extension Parameters {
    /// A numeric path parameter, or a 400 naming it.
    func integer(_ name: String) throws -> Int {
        let raw = get(name) ?? ""
        guard let value = Int(raw), value > 0 else {
            throw ServiceError.invalid("\(name) must be a positive integer, found \"\(raw)\"")
        }
        return value
    }

    /// A UUID path parameter, or a 400 naming it.
    func uuid(_ name: String) throws -> UUID {
        let raw = get(name) ?? ""
        guard let value = UUID(uuidString: raw) else { throw ServiceError.invalid("\(name) must be a UUID, found \"\(raw)\"") }
        return value
    }
}
