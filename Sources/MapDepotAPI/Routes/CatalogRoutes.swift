import ExportCore
import Foundation
import GeoJSON
import Hummingbird
import JSONValues
import MapDepotCore

/// `/catalog/records`: admins add and remove records; any token reads them.
struct CatalogRoutes: Sendable {
    let api: APIContext

    func register(on router: Router<BasicRequestContext>) {
        let catalog = api.components.catalog
        router.post("catalog/records") { request, _ in
            _ = try await api.principal(request, requiring: .admin)
            let draft = try CatalogRecordDraft(json: try await api.json(request))
            let record = try await catalog.add(draft)
            return JSONResponse.make(record.json, status: .created)
        }
        router.get("catalog/records") { request, _ in
            let principal = try await api.principal(request, requiring: .export)
            return JSONResponse.make(.array(try await catalog.records().map { Self.json($0, for: principal) }))
        }
        router.get("catalog/records/:id") { request, context in
            let principal = try await api.principal(request, requiring: .export)
            return JSONResponse.make(Self.json(try await catalog.record(id: try context.parameters.uuid("id")), for: principal))
        }
        router.delete("catalog/records/:id") { request, context in
            _ = try await api.principal(request, requiring: .admin)
            try await catalog.delete(id: try context.parameters.uuid("id"))
            return Response(status: .noContent)
        }
    }

    /// A record as the caller may see it: where its tiles live on the server's disks is for admins only (issue #9).
    static func json(_ record: CatalogRecord, for principal: Principal) -> JSONValue {
        guard !principal.scopes.contains(.admin), case .object(var object) = record.json else { return record.json }
        object["source"] = nil
        return .object(object)
    }
}
