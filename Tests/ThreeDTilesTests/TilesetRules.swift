import Foundation
import Geometry
import JSONValues
import Testing
import ThreeDTiles

/// The 3D Tiles rules an exported subset must keep (issue #13; 3D Tiles 1.1 schemas, ui-sync-dem-3d-anchors §D2):
/// `asset.version`, every referenced file present, every child's volume inside its parent's (on the map, transforms
/// applied), geometric errors not increasing down the tree, no empty `children`, `refine` on the root.
enum TilesetRules {
    static func check(_ subset: TilesetSubset, files: any TilesetFiles) throws {
        let present = Set(subset.contents).union(subset.tilesets.keys)
        for (path, document) in subset.tilesets {
            let object = try #require(document.objectValue, "\(path)")
            #expect(["1.0", "1.1"].contains(object["asset"]?.objectValue?["version"]?.stringValue), "\(path): asset.version")
            let root = try #require(object["root"]?.objectValue, "\(path): root")
            #expect(root["refine"] != nil, "\(path): refine on the root")
            try walk(root, file: path, transform: .identity, parent: nil, parentError: object["geometricError"]?.numberValue ?? .infinity, present: present)
        }
        for content in subset.contents { #expect(try files.size(of: content) != nil, "\(content) exists in the source") }
    }

    static func walk(
        _ tile: [String: JSONValue], file: String, transform parent: Matrix4, parent parentBounds: BoundingBox?, parentError: Double, present: Set<String>
    ) throws {
        var transform = parent
        if let numbers = tile["transform"]?.arrayValue?.compactMap(\.numberValue) { transform = parent * Matrix4(m: numbers) }
        let volume = try BoundingVolume(json: try #require(tile["boundingVolume"]), path: file)
        let bounds = volume.geographicBounds(transform: transform)
        if let parentBounds {
            let tolerance = 1e-6
            #expect(
                bounds.minX >= parentBounds.minX - tolerance && bounds.maxX <= parentBounds.maxX + tolerance
                    && bounds.minY >= parentBounds.minY - tolerance && bounds.maxY <= parentBounds.maxY + tolerance,
                "\(file): a child's volume \(bounds) is outside its parent's \(parentBounds)"
            )
        }
        let error = try #require(tile["geometricError"]?.numberValue)
        #expect(error <= parentError, "\(file): geometric error grows down the tree")
        for content in [tile["content"]].compactMap({ $0 }) + (tile["contents"]?.arrayValue ?? []) {
            let uri = try #require(content.objectValue?["uri"]?.stringValue ?? content.objectValue?["url"]?.stringValue)
            let directory = (file as NSString).deletingLastPathComponent
            let target = directory.isEmpty ? uri : directory + "/" + uri
            #expect(present.contains(target), "\(file): \(target) is referenced but not exported")
        }
        if let children = tile["children"] {
            let list = try #require(children.arrayValue)
            #expect(!list.isEmpty, "\(file): empty children")
            for child in list {
                try walk(try #require(child.objectValue), file: file, transform: transform, parent: bounds, parentError: error, present: present)
            }
        }
    }
}
