import Foundation
import ReplicationClient
import ZIPFoundation

/// Reads a replica zip's entries with ZIPFoundation (its CRC-32 checks each entry as it is extracted).
public struct ZipContentReader: ReplicaContentReader {
    public init() {}

    public func read(zipAt path: String, into content: inout ReplicaContent) throws {
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        for entry in archive.sorted(by: { $0.path < $1.path }) where entry.type == .file {
            var data = Data()
            _ = try archive.extract(entry, skipCRC32: false) { data.append($0) }
            try content.add(entry: entry.path, data: data)
        }
    }
}
