import ExportCore
import Foundation
import GeoJSON
import Hummingbird
import JSONValues
import MapDepotCore

/// `/tokens` (admin): list, issue and revoke API tokens over HTTP, as `mapdepot token list|create|revoke` does
/// (issue #9). A listing never shows a token, only its ``StoredToken/id``; the token itself is answered once, when
/// it is made.
struct TokenRoutes: Sendable {
    let api: APIContext

    func register(on router: Router<BasicRequestContext>) {
        let tokens = api.components.tokens
        // MapDepot's extension: who the caller is and what it may do (the web tool shows what the token allows).
        router.get("tokens/self") { request, _ in
            let principal = try await api.principal(request)
            return JSONResponse.make(.object(["subject": .string(principal.subject), "scopes": .array(principal.scopes.map(\.rawValue).sorted().map(JSONValue.string))]))
        }
        router.get("tokens") { request, _ in
            _ = try await api.principal(request, requiring: .admin)
            return JSONResponse.make(.array(try await tokens.list().map(\.json)))
        }
        router.post("tokens") { request, _ in
            _ = try await api.principal(request, requiring: .admin)
            let reader = try JSONObjectReader(try await api.json(request), path: "", allowed: ["subject", "scopes", "expiresInSeconds"])
            let subject = try reader.requiredString("subject")
            var scopes = Set<Scope>()
            for (index, value) in (try reader.array("scopes") ?? []).enumerated() {
                guard let raw = value.stringValue, let scope = Scope(rawValue: raw) else {
                    throw ServiceError.invalid("scopes[\(index)] must be one of \(Scope.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                scopes.insert(scope)
            }
            let lifetime = try reader.number("expiresInSeconds")
            if let lifetime, !(lifetime > 0) { throw ServiceError.invalid("expiresInSeconds must be a positive number") }
            let (token, stored) = try await tokens.issue(subject: subject, scopes: scopes, lifetime: lifetime)
            guard case .object(var body) = stored.json else { return JSONResponse.make(stored.json, status: .created) }
            body["token"] = .string(token)
            return JSONResponse.make(.object(body), status: .created)
        }
        router.delete("tokens/:id") { request, context in
            _ = try await api.principal(request, requiring: .admin)
            try await tokens.revoke(id: context.parameters.get("id") ?? "")
            return Response(status: .noContent)
        }
    }
}

extension StoredToken {
    /// The token as `GET /tokens` and `mapdepot token list --json` show it: never the token, never its whole hash.
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "id": .string(id), "subject": .string(subject), "scopes": .array(scopes.map(\.rawValue).sorted().map(JSONValue.string)),
            "createdAt": .string(Timestamp.string(createdAt)),
        ]
        object["expiresAt"] = expiresAt.map { .string(Timestamp.string($0)) } ?? .null
        object["lastUsedAt"] = lastUsedAt.map { .string(Timestamp.string($0)) } ?? .null
        return .object(object)
    }
}
