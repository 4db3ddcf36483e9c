import Foundation
import JSONValues

extension TilesetSubset {
    /// The subset's files as they go into the export: each rewritten tileset as JSON (keys sorted, so identical input
    /// gives identical bytes), each content file copied from the source byte for byte. Paths are the source's.
    public func write(from source: String, to directory: String) throws {
        let manager = FileManager.default
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for (path, document) in tilesets {
            let target = directory + "/" + path
            try manager.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try encoder.encode(document).write(to: URL(fileURLWithPath: target))
        }
        for path in contents {
            let target = directory + "/" + path
            try manager.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            if manager.fileExists(atPath: target) { try manager.removeItem(atPath: target) }
            try manager.copyItem(atPath: source + "/" + path, toPath: target)
        }
    }
}
