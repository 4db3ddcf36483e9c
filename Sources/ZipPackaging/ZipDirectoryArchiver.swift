import ExportCore
import Foundation
import ZIPFoundation

/// Domain 3D's zip (issue #13), with ZIPFoundation: every file under a directory, by its relative path, in name order
/// and stamped with one fixed time, so the same subset gives the same bytes. Content is stored deflated; 3D Tiles
/// content is mostly binary that deflates a little, and tileset JSONs a lot.
public struct ZipDirectoryArchiver: DirectoryArchiver {
    /// 2000-01-01T00:00:00Z: inside the DOS date range every zip reader accepts.
    static let stamp = Date(timeIntervalSince1970: 946_684_800)

    public init() {}

    public func archive(directory: String, to path: String) throws {
        let root = URL(fileURLWithPath: directory).standardizedFileURL
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: directory])
        }
        var names: [String] = []
        for case let url as URL in walker where (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true {
            names.append(String(url.standardizedFileURL.path.dropFirst(root.path.count + 1)))
        }
        for name in names.sorted() {
            let file = root.appendingPathComponent(name)
            let size = Int64((try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? NSNumber)?.int64Value ?? 0)
            let handle = try FileHandle(forReadingFrom: file)
            defer { try? handle.close() }
            try archive.addEntry(
                with: name, type: .file, uncompressedSize: size, modificationDate: Self.stamp, compressionMethod: .deflate, bufferSize: 256 << 10
            ) { position, count in
                try handle.seek(toOffset: UInt64(position))
                return try handle.read(upToCount: count) ?? Data()
            }
        }
    }
}
