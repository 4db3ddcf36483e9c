import ExportCore
import Foundation
import GeoPackage
import Testing
import TestSupport

/// The staged file of the bulk path: its digest is its bytes', with direct I/O (ext4 here) and without it (tmpfs, which
/// refuses `O_DIRECT`), written whole and resumed from a kept prefix.
@Suite struct HashingFileTests {
    static func chunk(_ seed: UInt8, pages: Int) -> AlignedPages {
        let pages = AlignedPages(count: pages * 65_536)
        for index in 0..<pages.count { pages.bytes[index] = seed &+ UInt8(truncatingIfNeeded: index &* 31) }
        return pages
    }

    @Test(arguments: ["/tmp", "/dev/shm"].filter { FileManager.default.fileExists(atPath: $0) })
    func theDigestIsTheBytesDigest(root: String) async throws {
        let path = root + "/mapdepot-hashing-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try HashingFile(path: path, keeping: 0)
        for seed in 1...3 { try await file.append(Self.chunk(UInt8(seed), pages: seed)) }
        try await file.append(AlignedPages(count: 0))
        let digest = try await file.finish()
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(whole.count == 6 * 65_536)
        #expect(digest == sha256Hex(whole))
        // Resumed after the first chunk: the kept bytes are hashed again and the rest written after them.
        let resumed = try HashingFile(path: path, keeping: 65_536)
        for seed in 2...3 { try await resumed.append(Self.chunk(UInt8(seed), pages: seed)) }
        #expect(try await resumed.finish() == digest)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == whole)
    }
}
