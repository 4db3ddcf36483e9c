import Foundation
import Geometry
import JSONValues

/// The part of a 3D Tiles 1.0/1.1 tileset that meets a region (issue #13): every tile whose bounding volume meets it,
/// with its ancestors; tileset JSONs rewritten with only those tiles (geometric errors, refinement and every other
/// member kept; a `children` array left empty is removed), and the content they name, to be copied byte for byte.
/// Whole tiles, never cut (Global Mapper's semantics, ui-sync-dem-3d-anchors §D1); external tilesets are subset the
/// same way and kept as external files.
public struct TilesetSubset: Sendable {
    /// Rewritten tileset files by path (the root's path first among them).
    public var tilesets: [String: JSONValue]
    /// Content files to copy, in tree order, each once.
    public var contents: [String]
    /// Tiles kept, over all tilesets.
    public var tiles: Int
    /// Bytes of the kept content files.
    public var contentBytes: Int64
    /// What the root tile covers on the map (degrees).
    public var rootBounds: BoundingBox?

    /// - Parameters:
    ///   - root: the tileset file's path in `files` (`tileset.json`).
    ///   - region: the ROI in degrees; "whole layer" is the record's footprint.
    /// - Throws: ``TilesetError`` for a tileset that is not one, a missing file, implicit tiling (not supported), or
    ///   a root that does not meet the region.
    public static func make(root: String, files: any TilesetFiles, region: Region) throws -> TilesetSubset {
        var walker = Walker(files: files, region: region)
        let document = try walker.tileset(at: root, transform: .identity, depth: 0)
        guard let document else { throw TilesetError("the tileset's root does not meet the region") }
        walker.tilesets[root] = document
        return TilesetSubset(
            tilesets: walker.tilesets, contents: walker.contents, tiles: walker.tiles, contentBytes: walker.bytes, rootBounds: walker.rootBounds
        )
    }

    struct Walker {
        let files: any TilesetFiles
        let region: Region
        var tilesets: [String: JSONValue] = [:]
        var contents: [String] = []
        var seen: Set<String> = []
        var tiles = 0
        var bytes: Int64 = 0
        var rootBounds: BoundingBox?

        init(files: any TilesetFiles, region: Region) {
            self.files = files
            self.region = region
        }

        /// A tileset file subset, or nil when its root does not meet the region.
        mutating func tileset(at path: String, transform: Matrix4, depth: Int) throws -> JSONValue? {
            guard depth < 16 else { throw TilesetError("\(path): external tilesets nest more than 16 deep (a cycle?)") }
            let json: JSONValue
            do {
                json = try files.json(at: path)
            } catch let error as TilesetError {
                throw error
            } catch {
                throw TilesetError("\(path) cannot be read as JSON: \(error)")
            }
            guard case .object(var document) = json else { throw TilesetError("\(path) is not a JSON object") }
            guard let version = document["asset"]?.objectValue?["version"]?.stringValue, ["1.0", "1.1"].contains(version) else {
                throw TilesetError("\(path): asset.version must be \"1.0\" or \"1.1\"")
            }
            guard let root = document["root"] else { throw TilesetError("\(path) has no root tile") }
            guard let kept = try tile(root, file: path, at: "root", transform: transform, depth: depth) else { return nil }
            document["root"] = kept
            return .object(document)
        }

        mutating func tile(_ json: JSONValue, file: String, at path: String, transform parent: Matrix4, depth: Int) throws -> JSONValue? {
            guard case .object(var tile) = json else { throw TilesetError("\(file): \(path) is not an object") }
            if tile["implicitTiling"] != nil { throw TilesetError("\(file): \(path) uses implicit tiling, which MapDepot does not subset yet") }
            var transform = parent
            if let matrix = tile["transform"] {
                guard let numbers = matrix.arrayValue?.compactMap(\.numberValue), numbers.count == 16 else {
                    throw TilesetError("\(file): \(path).transform must hold 16 numbers")
                }
                transform = parent * Matrix4(m: numbers)
            }
            guard let volumeJSON = tile["boundingVolume"] else { throw TilesetError("\(file): \(path) has no boundingVolume") }
            let volume = try BoundingVolume(json: volumeJSON, path: "\(file): \(path).boundingVolume")
            let bounds = volume.geographicBounds(transform: transform)
            guard meets(bounds) else { return nil }
            if tiles == 0 { rootBounds = bounds }
            tiles += 1

            // Content first, then children: files are listed in tree order (pre-order).
            if let content = tile["content"] {
                tile["content"] = try self.content(content, file: file, at: "\(path).content", transform: transform, depth: depth)
            }
            if case .array(let list)? = tile["contents"] {
                var kept: [JSONValue] = []
                for (index, item) in list.enumerated() {
                    if let item = try content(item, file: file, at: "\(path).contents[\(index)]", transform: transform, depth: depth) { kept.append(item) }
                }
                tile["contents"] = kept.isEmpty ? nil : .array(kept)
            }
            if let children = tile["children"] {
                guard case .array(let list) = children else { throw TilesetError("\(file): \(path).children must be an array") }
                var kept: [JSONValue] = []
                for (index, child) in list.enumerated() {
                    if let child = try self.tile(child, file: file, at: "\(path).children[\(index)]", transform: transform, depth: depth) {
                        kept.append(child)
                    }
                }
                tile["children"] = kept.isEmpty ? nil : .array(kept)
            }
            return .object(tile)
        }

        /// A content object kept as it is (its file to copy), or, for an external tileset, kept when that tileset
        /// meets the region (its subset written beside the others); nil when it is dropped.
        mutating func content(_ json: JSONValue, file: String, at path: String, transform: Matrix4, depth: Int) throws -> JSONValue? {
            guard let object = json.objectValue else { throw TilesetError("\(file): \(path) is not an object") }
            // 1.0 tilesets may say `url`; 1.1 says `uri`.
            guard let uri = object["uri"]?.stringValue ?? object["url"]?.stringValue else { throw TilesetError("\(file): \(path) has no uri") }
            let target = try TilesetPath.resolve(uri, from: file)
            if target.lowercased().hasSuffix(".json") {
                if tilesets[target] != nil { return json }
                guard let external = try tileset(at: target, transform: transform, depth: depth + 1) else { return nil }
                tilesets[target] = external
                return json
            }
            if seen.insert(target).inserted {
                guard let size = try files.size(of: target) else { throw TilesetError("\(file): \(path) names \(target), which is missing") }
                contents.append(target)
                bytes += size
            }
            return json
        }

        /// Whether a tile's footprint meets the region; a footprint without area (a flat or one-point tile) is
        /// widened to a hair, so it is not lost.
        func meets(_ box: BoundingBox) -> Bool {
            let epsilon = 1e-9
            let widened = BoundingBox(
                minX: box.minX - (box.width > 0 ? 0 : epsilon), minY: box.minY - (box.height > 0 ? 0 : epsilon),
                maxX: box.maxX + (box.width > 0 ? 0 : epsilon), maxY: box.maxY + (box.height > 0 ? 0 : epsilon)
            )
            return region.area(in: widened) > 0
        }
    }
}
