import Foundation
import HTTPTypes
import Hummingbird
import MapDepotCore

/// `GET /ui/…`: the web tool (issue #11), served from memory with `ETag`s, revalidated on every load (`no-cache`), and
/// under a strict Content-Security-Policy: scripts, styles, images and calls from this origin only, no inline script or
/// style, no frames. The pages call only the public API.
struct UIRoutes: Sendable {
    let files: StaticFiles

    static let securityHeaders: HTTPFields = [
        HTTPField.Name("Content-Security-Policy")!:
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; "
            + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("Referrer-Policy")!: "no-referrer",
    ]

    func register(on router: Router<BasicRequestContext>) {
        // The router matches `/ui` and `/ui/` alike: the bare path goes to the index's URL, so relative links resolve.
        router.get("ui") { request, _ in
            request.uri.path.hasSuffix("/") ? try serve(request) : Response(status: .movedPermanently, headers: [.location: "/ui/"])
        }
        router.get("ui/**") { request, _ in try serve(request) }
        router.head("ui/**") { request, _ in try serve(request, body: false) }
        // The API document (issue #12) and a page that reads it.
        router.get("docs") { request, _ in
            guard let page = files.file(at: "docs.html") else { throw ServiceError.notFound(files.problem ?? "the documentation page is not installed") }
            return respond(page, request: request)
        }
        for (name, type) in [("openapi.json", "application/json"), ("openapi.yaml", "application/yaml")] {
            router.get("docs/\(name)") { request, _ in
                guard let document = files.document else { throw ServiceError.notFound("the API document is not installed here") }
                return respond(StaticFiles.File(bytes: document, contentType: type, etag: StaticFiles.etag(document)), request: request)
            }
        }
    }

    func serve(_ request: Request, body: Bool = true) throws -> Response {
        if let problem = files.problem, files.files.isEmpty { throw ServiceError.notFound(problem) }
        let path = String(request.uri.path.dropFirst("/ui/".count))
        guard let file = files.file(at: path) else { throw ServiceError.notFound("no page or file at /ui/\(path)") }
        return respond(file, request: request, body: body)
    }

    func respond(_ file: StaticFiles.File, request: Request, body: Bool = true) -> Response {
        var headers = Self.securityHeaders
        headers[.eTag] = file.etag
        headers[.cacheControl] = "no-cache"
        headers[.contentType] = file.contentType
        if request.headers[.ifNoneMatch] == file.etag { return Response(status: .notModified, headers: headers) }
        headers[.contentLength] = "\(file.bytes.count)"
        return Response(status: .ok, headers: headers, body: body ? ResponseBody(byteBuffer: ByteBuffer(bytes: file.bytes)) : ResponseBody())
    }
}
