import Foundation
import Geometry
import JSONValues
import ThreeDTiles

/// The 3D Tiles rules an exported tileset must keep (issue #13; 3D Tiles 1.1 schemas, ui-sync-dem-3d-anchors §D2),
/// checked on the files as written: `asset.version`, `refine` on the root, every referenced file present, every child's
/// volume inside its parent's (on the map, transforms applied), geometric errors not increasing down the tree, no empty
/// `children`. Returns what is wrong, nothing when all is well.
public enum TilesetRules {
    public static func violations(directory: String, root: String = "tileset.json") -> [String] {
        var found: [String] = []
        var pending = [(root, Matrix4.identity, nil as BoundingBox?, Double.infinity)]
        var seen: Set<String> = []
        while let (file, transform, parentBounds, parentError) = pending.popLast() {
            guard seen.insert(file).inserted else { continue }
            guard let data = FileManager.default.contents(atPath: directory + "/" + file), let json = try? JSONValue.parse(data),
                let object = json.objectValue
            else {
                found.append("\(file) is missing or not JSON")
                continue
            }
            if !["1.0", "1.1"].contains(object["asset"]?.objectValue?["version"]?.stringValue) { found.append("\(file): asset.version") }
            guard let tile = object["root"]?.objectValue else {
                found.append("\(file): no root")
                continue
            }
            if file == root && tile["refine"] == nil { found.append("\(file): no refine on the root") }
            walk(
                tile, file: file, directory: directory, transform: transform, parent: parentBounds,
                parentError: min(parentError, object["geometricError"]?.numberValue ?? .infinity), found: &found, external: &pending
            )
        }
        return found
    }

    static func walk(
        _ tile: [String: JSONValue], file: String, directory: String, transform parent: Matrix4, parent parentBounds: BoundingBox?,
        parentError: Double, found: inout [String], external: inout [(String, Matrix4, BoundingBox?, Double)]
    ) {
        var transform = parent
        if let numbers = tile["transform"]?.arrayValue?.compactMap(\.numberValue), numbers.count == 16 { transform = parent * Matrix4(m: numbers) }
        guard let volumeJSON = tile["boundingVolume"], let volume = try? BoundingVolume(json: volumeJSON, path: file) else {
            found.append("\(file): a tile without a valid boundingVolume")
            return
        }
        let bounds = volume.geographicBounds(transform: transform)
        if let parentBounds {
            let tolerance = 1e-6
            let inside =
                bounds.minX >= parentBounds.minX - tolerance && bounds.maxX <= parentBounds.maxX + tolerance
                && bounds.minY >= parentBounds.minY - tolerance && bounds.maxY <= parentBounds.maxY + tolerance
            if !inside { found.append("\(file): a child's volume \(bounds) is outside its parent's \(parentBounds)") }
        }
        guard let error = tile["geometricError"]?.numberValue else {
            found.append("\(file): a tile without geometricError")
            return
        }
        if error > parentError { found.append("\(file): geometric error \(error) grows down the tree (parent \(parentError))") }
        let folder = (file as NSString).deletingLastPathComponent
        for content in [tile["content"]].compactMap({ $0 }) + (tile["contents"]?.arrayValue ?? []) {
            guard let uri = content.objectValue?["uri"]?.stringValue ?? content.objectValue?["url"]?.stringValue else {
                found.append("\(file): content without uri")
                continue
            }
            let target = folder.isEmpty ? uri : folder + "/" + uri
            if target.lowercased().hasSuffix(".json") {
                external.append((target, transform, bounds, error))
            } else if !FileManager.default.fileExists(atPath: directory + "/" + target) {
                found.append("\(file): \(target) is referenced but missing")
            }
        }
        if let children = tile["children"] {
            guard let list = children.arrayValue, !list.isEmpty else {
                found.append("\(file): empty children")
                return
            }
            for child in list {
                guard let object = child.objectValue else { continue }
                walk(object, file: file, directory: directory, transform: transform, parent: bounds, parentError: error, found: &found, external: &external)
            }
        }
    }
}
