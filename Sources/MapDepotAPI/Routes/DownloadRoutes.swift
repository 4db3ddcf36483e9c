import ExportCore
import MapDepotCore
import Foundation
import HTTPTypes
import Hummingbird
import Storage

/// `GET|HEAD /downloads/exports/{task}/{file}`: a task's artifacts, to the task's owner only, with
/// `Content-Length`, `ETag` (the SHA-256), `Accept-Ranges` and single `Range` requests (resumable downloads).
///
/// Only names listed in the task's artifacts are served, so no path can reach outside the store; paths
/// with `..`, `.` or hidden segments, encoded or not, are refused with 400 before any lookup.
struct DownloadRoutes: Sendable {
    let api: APIContext

    func register(on router: Router<BasicRequestContext>) {
        router.get("downloads/**") { request, context in try await serve(request, context: context, body: true) }
        router.head("downloads/**") { request, context in try await serve(request, context: context, body: false) }
    }

    func serve(_ request: Request, context: BasicRequestContext, body: Bool) async throws -> Response {
        let principal = try await api.principal(request, requiring: .export)
        let raw = String(request.uri.path.dropFirst("/downloads/".count))
        guard let decoded = raw.removingPercentEncoding, DirectoryArtifactStore.isSafe(decoded) else {
            throw ServiceError.invalid("download path \"\(raw)\" is not valid")
        }
        let parts = decoded.split(separator: "/").map(String.init)
        guard parts.count == 3, parts[0] == "exports", let id = Int(parts[1]) else {
            throw ServiceError.notFound("no artifact at \(decoded)")
        }
        let task = try await api.components.exports.task(id: id, customer: principal.subject)
        guard let artifact = task.artifacts.first(where: { $0.name == parts[2] }) else {
            throw ServiceError.notFound("task \(id) has no artifact named \(parts[2])")
        }
        guard let path = api.components.artifacts.localPath(for: artifact.key) else {
            throw ServiceError.notFound("artifact \(artifact.name) is no longer available")
        }
        let size = Int(artifact.size)
        let etag = "\"\(artifact.sha256)\""
        var headers: HTTPFields = [
            .eTag: etag,
            .acceptRanges: "bytes",
            .contentType: artifact.type == .gpkg ? "application/geopackage+sqlite3" : "application/json",
            .contentDisposition: "attachment; filename=\"\(artifact.name)\"",
        ]
        if let match = request.headers[.ifNoneMatch], match == etag || match == "*" {
            return Response(status: .notModified, headers: headers)
        }
        var range = ByteRange.parse(request.headers[.range], size: size)
        if let ifRange = request.headers[.ifRange], ifRange != etag { range = .whole }
        let fileIO = FileIO()
        switch range {
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(size)"
            return Response(status: .rangeNotSatisfiable, headers: headers)
        case .partial(let bytes):
            headers[.contentRange] = "bytes \(bytes.lowerBound)-\(bytes.upperBound)/\(size)"
            headers[.contentLength] = "\(bytes.count)"
            guard body else { return Response(status: .partialContent, headers: headers) }
            let content = try await fileIO.loadFile(path: path, range: bytes, context: context)
            return Response(status: .partialContent, headers: headers, body: content)
        case .whole:
            headers[.contentLength] = "\(size)"
            guard body else { return Response(status: .ok, headers: headers) }
            return Response(status: .ok, headers: headers, body: try await fileIO.loadFile(path: path, context: context))
        }
    }
}
