import ExportCore
import MapDepotCore
import Foundation
import GeoJSON
import Hummingbird

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
            _ = try await api.principal(request, requiring: .export)
            return JSONResponse.make(.array(try await catalog.records().map(\.json)))
        }
        router.get("catalog/records/:id") { request, context in
            _ = try await api.principal(request, requiring: .export)
            return JSONResponse.make(try await catalog.record(id: try context.parameters.uuid("id")).json)
        }
        router.delete("catalog/records/:id") { request, context in
            _ = try await api.principal(request, requiring: .admin)
            try await catalog.delete(id: try context.parameters.uuid("id"))
            return Response(status: .noContent)
        }
    }
}
