import Foundation
import ReplicationClient
import Synchronization
import ZIPFoundation

/// Reads a replica zip's entries with ZIPFoundation (its CRC-32 checks each entry as it is extracted), then parses the
/// entries on every core at once (a snapshot's zip holds one GeoJSON file per 10,000 features), merged in entry order.
public struct ZipContentReader: ReplicaContentReader {
    public init() {}

    public func read(zipAt path: String, into content: inout ReplicaContent) throws {
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        var entries: [(name: String, data: Data)] = []
        for entry in archive.sorted(by: { $0.path < $1.path }) where entry.type == .file {
            var data = Data()
            _ = try archive.extract(entry, skipCRC32: false) { data.append($0) }
            entries.append((entry.path, data))
        }
        let extracted = entries
        let parsed = Mutex([Int: Result<ReplicaContent, any Error>]())
        DispatchQueue.concurrentPerform(iterations: entries.count) { index in
            let result = Result { () throws -> ReplicaContent in
                var part = ReplicaContent()
                try part.add(entry: extracted[index].name, data: extracted[index].data)
                return part
            }
            parsed.withLock { $0[index] = result }
        }
        let parts = parsed.withLock { $0 }
        for index in entries.indices {
            content.merge(try parts[index]!.get())
        }
    }
}
