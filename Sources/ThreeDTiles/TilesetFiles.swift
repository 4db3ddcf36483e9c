import Foundation
import JSONValues

/// Where a tileset's files are read from: a directory on this node (the catalog record's source), or a fixture in tests.
public protocol TilesetFiles: Sendable {
    /// A tileset JSON file (the root one or an external tileset), by its path relative to the source's root.
    func json(at path: String) throws -> JSONValue
    /// The byte size of a content file, or nil when it is missing.
    func size(of path: String) throws -> Int64?
}

/// A tileset in a directory.
public struct DirectoryTilesetFiles: TilesetFiles {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    public func json(at path: String) throws -> JSONValue {
        try JSONValue.parse(try Data(contentsOf: URL(fileURLWithPath: root + "/" + path)))
    }

    public func size(of path: String) throws -> Int64? {
        let attributes = try? FileManager.default.attributesOfItem(atPath: root + "/" + path)
        return (attributes?[.size] as? NSNumber)?.int64Value
    }
}

/// Content and tileset URIs, resolved against the file that names them. Only relative paths inside the source are
/// followed: an absolute URL, a `data:` URI or a path out of the source (`../`) is refused, so an export never reads
/// outside its record's directory.
enum TilesetPath {
    static func resolve(_ uri: String, from file: String) throws(TilesetError) -> String {
        guard !uri.isEmpty, !uri.contains("://"), !uri.hasPrefix("/"), !uri.lowercased().hasPrefix("data:") else {
            throw TilesetError("\(file): content \(uri) is not a relative path inside the tileset")
        }
        let decoded = uri.split(separator: "?", maxSplits: 1).first.map(String.init)?.removingPercentEncoding ?? uri
        var parts = file.split(separator: "/").dropLast().map(String.init)
        for part in decoded.split(separator: "/", omittingEmptySubsequences: true).map(String.init) {
            switch part {
            case ".": continue
            case "..":
                guard !parts.isEmpty else { throw TilesetError("\(file): content \(uri) leaves the tileset's directory") }
                parts.removeLast()
            default: parts.append(part)
            }
        }
        guard !parts.isEmpty else { throw TilesetError("\(file): content \(uri) names no file") }
        return parts.joined(separator: "/")
    }
}
