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
        var request = request
        let buffer = try await request.collectBody(upTo: components.config.http.maxBodyBytes)
        guard buffer.readableBytes > 0 else { throw ServiceError.invalid("the request body is empty; a JSON object is expected") }
        do {
            return try JSONValue.parse(Data(buffer.readableBytesView))
        } catch let error as GeoJSONError {
            throw ServiceError.invalid("the request body is \(error.reason)")
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
