import Crypto
import Foundation
import MapDepotCore

/// The web tool's files (issue #11), read once when the server starts: our own pages, scripts and styles from
/// `ui.dir`, and Leaflet from the Debian package's directory (`ui.leaflet.dir`) under `vendor/leaflet/`. Nothing is
/// copied into the repository or fetched from a CDN. Each file carries its SHA-256 as `ETag`.
struct StaticFiles: Sendable {
    struct File: Sendable {
        var bytes: Data
        var contentType: String
        var etag: String
    }

    let files: [String: File]
    /// Why the tool is unavailable, when it is (a directory missing): answered to `/ui/` instead of the pages.
    let problem: String?
    /// The API document (`Docs/openapi.yaml`, written in JSON, which YAML 1.2 reads), when it is there.
    let document: Data?

    static let types = [
        "html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8",
        "png": "image/png", "svg": "image/svg+xml", "json": "application/json", "ico": "image/x-icon",
    ]

    init(pages: String, leaflet: String, document: String) {
        self.document = FileManager.default.contents(atPath: document)
        var files: [String: File] = [:]
        var problems: [String] = []
        for (root, prefix) in [(pages, ""), (leaflet, "vendor/leaflet/")] {
            guard let walker = FileManager.default.enumerator(atPath: root) else {
                problems.append("\(root) is missing")
                continue
            }
            for case let relative as String in walker {
                let path = root + "/" + relative
                var isDirectory: ObjCBool = false
                let name = (relative as NSString).lastPathComponent
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue, !name.hasPrefix("."),
                    let type = Self.types[(relative as NSString).pathExtension.lowercased()],
                    let bytes = FileManager.default.contents(atPath: path)
                else { continue }
                files[prefix + relative] = File(bytes: bytes, contentType: type, etag: Self.etag(bytes))
            }
        }
        self.files = files
        problem = problems.isEmpty ? nil : "the web tool is not installed here: " + problems.joined(separator: "; ")
    }

    /// A strong validator: the bytes' SHA-256.
    static func etag(_ bytes: Data) -> String { "\"" + Hex.encode(SHA256.hash(data: bytes)) + "\"" }

    /// The file at a path below `/ui/` (`""` is the index).
    func file(at path: String) -> File? {
        files[path.isEmpty ? "index.html" : path]
    }
}
