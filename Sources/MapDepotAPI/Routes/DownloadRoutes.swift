import ExportCore
import MapDepotCore
import Foundation
import HTTPTypes
import Hummingbird
import ReplicationCore

/// `GET|HEAD /downloads/…`: a task's artifacts to the task's owner (`exports/{task}/{file}`) and published
/// replica zips to replication readers (`replicas/{layer}/{type}/{replica}/{file}.zip`), with
/// `Content-Length`, `ETag` (the SHA-256), `Accept-Ranges` and single `Range` requests (resumable downloads).
///
/// Only files listed in a task's artifacts or a replica's files are served, so no path can reach outside the store; paths
/// with `..`, `.` or hidden segments, encoded or not, are refused with 400 before any lookup.
///
/// The record (size, SHA-256) answers `HEAD` and `If-None-Match`; the bytes come from the artifact store: a file on
/// this node, a `307` to a pre-signed object-store URL (the client repeats its `Range` there), or streamed through.
struct DownloadRoutes: Sendable {
    let api: APIContext

    func register(on router: Router<BasicRequestContext>) {
        router.get("downloads/**") { request, context in try await serve(request, context: context, body: true) }
        router.head("downloads/**") { request, context in try await serve(request, context: context, body: false) }
    }

    /// A published file a caller may read.
    struct Download {
        var key: String
        var size: Int
        var sha256: String
        var contentType: String
        var name: String
    }

    func serve(_ request: Request, context: BasicRequestContext, body: Bool) async throws -> Response {
        let raw = String(request.uri.path.dropFirst("/downloads/".count))
        guard let decoded = raw.removingPercentEncoding, ArtifactKey.isSafe(decoded) else {
            throw ServiceError.invalid("download path \"\(raw)\" is not valid")
        }
        let parts = decoded.split(separator: "/").map(String.init)
        let download: Download
        switch parts.first {
        case "exports": download = try await exportArtifact(parts, request: request)
        case "replicas": download = try await replicaFile(parts, key: decoded, request: request)
        default: throw ServiceError.notFound("no artifact at \(decoded)")
        }
        return try await respond(download, request: request, context: context, body: body)
    }

    /// `exports/{job}/{name}`: with a valid signed link anyone; else the owner of a task on the job.
    private func exportArtifact(_ parts: [String], request: Request) async throws -> Download {
        let query = request.uri.queryParameters
        let access: ExportService.DownloadAccess
        if query.get("signature") != nil {
            guard api.components.links.verify(path: request.uri.path, expires: query.get("expires"), signature: query.get("signature"), now: api.components.clock.now()) else {
                throw ServiceError(.forbidden, "the download link is invalid or has expired")
            }
            access = .signedLink
        } else {
            access = .customer(try await api.principal(request, requiring: .export).subject)
        }
        guard parts.count == 3, let jobId = Int(parts[1]) else { throw ServiceError.notFound("no artifact at \(parts.joined(separator: "/"))") }
        let artifact = try await api.components.exports.artifact(jobId: jobId, name: parts[2], access: access)
        return Download(
            key: artifact.key, size: Int(artifact.size), sha256: artifact.sha256,
            contentType: artifact.type == .gpkg ? "application/geopackage+sqlite3" : "application/json", name: artifact.name
        )
    }

    /// `replicas/{layer}/{geometry type}/{replica}/{file}.zip`: any `replication:read` token, published replicas only.
    private func replicaFile(_ parts: [String], key: String, request: Request) async throws -> Download {
        _ = try await api.principal(request, requiring: .replicationRead)
        guard parts.count == 5, let id = UUID(uuidString: parts[3]) else { throw ServiceError.notFound("no replica file at \(key)") }
        let file = try await api.components.replication.publishedFile(replicaId: id, key: key)
        return Download(key: key, size: Int(file.size), sha256: file.sha256, contentType: "application/zip", name: parts[4])
    }

    private func respond(_ download: Download, request: Request, context: BasicRequestContext, body: Bool) async throws -> Response {
        let size = download.size
        let etag = "\"\(download.sha256)\""
        var headers: HTTPFields = [
            .eTag: etag,
            .acceptRanges: "bytes",
            .contentType: download.contentType,
            .contentDisposition: "attachment; filename=\"\(download.name)\"",
        ]
        if let match = request.headers[.ifNoneMatch], match == etag || match == "*" {
            return Response(status: .notModified, headers: headers)
        }
        var range = ByteRange.parse(request.headers[.range], size: size)
        if let ifRange = request.headers[.ifRange], ifRange != etag { range = .whole }
        var status = HTTPResponse.Status.ok
        var bytes: ClosedRange<Int>?
        switch range {
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(size)"
            return Response(status: .rangeNotSatisfiable, headers: headers)
        case .partial(let partial):
            status = .partialContent
            bytes = partial
            headers[.contentRange] = "bytes \(partial.lowerBound)-\(partial.upperBound)/\(size)"
            headers[.contentLength] = "\(partial.count)"
        case .whole:
            headers[.contentLength] = "\(size)"
        }
        guard body else { return Response(status: status, headers: headers) }
        guard let source = try await api.components.artifacts.download(key: download.key, fileName: download.name, range: bytes) else {
            throw ServiceError.notFound("\(download.name) is no longer available")
        }
        switch source {
        case .file(let path):
            let fileIO = FileIO()
            let content: ResponseBody
            if let bytes {
                content = try await fileIO.loadFile(path: path, range: bytes, context: context)
            } else {
                content = try await fileIO.loadFile(path: path, context: context)
            }
            return Response(status: status, headers: headers, body: content)
        case .redirect(let url):
            return Response(status: .temporaryRedirect, headers: [.location: url, .eTag: etag, .cacheControl: "no-store"])
        case .stream(let chunks):
            return Response(status: status, headers: headers, body: ResponseBody(asyncSequence: chunks))
        }
    }
}
