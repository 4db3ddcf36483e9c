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
        router.get("catalog/records/:id/tiles/:z/:x/:y") { request, context in
            _ = try await api.principal(request, requiring: .export)
            func coordinate(_ name: String) throws -> Int {
                let raw = context.parameters.get(name) ?? ""
                guard let value = Int(raw), value >= 0 else { throw ServiceError.invalid("\(name) must be a non-negative integer, found \"\(raw)\"") }
                return value
            }
            let (zoom, column, row) = (try coordinate("z"), try coordinate("x"), try coordinate("y"))
            guard let tile = try await catalog.tile(recordID: try context.parameters.uuid("id"), zoom: zoom, column: column, row: row) else {
                throw ServiceError.notFound("no tile \(zoom)/\(column)/\(row) in this product")
            }
            let type = tile.starts(with: [0xFF, 0xD8]) ? "image/jpeg" : tile.starts(with: Array("RIFF".utf8)) ? "image/webp" : "image/png"
            return Response(
                status: .ok, headers: [.contentType: type, .cacheControl: "private, max-age=300"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: tile))
            )
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
