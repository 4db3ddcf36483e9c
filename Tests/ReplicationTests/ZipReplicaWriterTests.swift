import FileStorage
import Foundation
import GeoJSON
import JSONValues
import MapDepotCore
import ReplicationCore
import Testing
import TestSupport
import ZIPFoundation

@testable import ZipPackaging

/// A snapshot's pages of texts (``FeatureTexts``, issue #15) make the same files as its features added one by one: pages
/// that end one file and start the next, and files split in halves under a small cap.
@Suite struct ZipReplicaWriterTests {
    /// A 700-byte zip cap splits files in halves; a 900-byte file cap seals files of about three features.
    @Test(arguments: [(Int64(500_000_000), 8 << 20), (700, 8 << 20), (500_000_000, 900)])
    func pagesMakeTheFilesThatSingleFeaturesMake(maxZipBytes: Int64, maxFileBytes: Int) async throws {
        let directory = try Fixtures.temporaryDirectory("zipreplica")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let artifacts = try DirectoryArtifactStore(root: directory)
        let packaging = ZipReplicaPackaging(artifacts: artifacts, featuresPerFile: 7, maxZipBytes: maxZipBytes, maxFileBytes: maxFileBytes)
        var random = SeededGenerator(seed: 15)
        // Random hex properties deflate to about half, so seven features do not fit 700 bytes and three do; an id with a
        // quote and a control character takes the escaping path.
        let states = (0..<23).map { index in
            let noise = (0..<200).map { _ in String(UInt8.random(in: 0...15, using: &random), radix: 16) }.joined()
            return FeatureState(
                id: index == 4 ? "f\"4\u{1}" : "f\(index)", geometry: .point(Position(Double(index), 1.5)), properties: ["noise": .string(noise)]
            )
        }
        let single = try packaging.makeWriter(keyPrefix: "single", alwaysWriteFeatureFile: true)
        var singleHash = LayerHash()
        for state in states {
            try single.add(feature: state.featureText())
            singleHash.toggle(state.featureText())
        }
        let paged = try packaging.makeWriter(keyPrefix: "paged", alwaysWriteFeatureFile: true)
        var pagedHash = LayerHash()
        for start in stride(from: 0, to: states.count, by: 5) {
            var page = FeatureTexts()
            for state in states[start..<min(states.count, start + 5)] { page.append(state) }
            #expect(page.lastId == states[min(states.count, start + 5) - 1].id)
            try paged.add(features: page)
            pagedHash.toggle(each: page)
        }
        let singleFiles = try Self.entries(try await single.finish(), artifacts)
        let pagedFiles = try Self.entries(try await paged.finish(), artifacts)
        #expect(pagedFiles == singleFiles)
        #expect(pagedHash == singleHash)
        #expect(singleFiles.count >= (maxZipBytes == 700 ? 7 : maxFileBytes == 900 ? 8 : 4), "caps split files: \(singleFiles.count)")
        #expect(singleFiles.allSatisfy { $0.count <= maxFileBytes + 2 }, "no file's texts pass the file cap: \(singleFiles.map(\.count))")
        // Every file is a FeatureCollection, and together they hold every feature once, in order.
        var ids: [String] = []
        for file in pagedFiles {
            let json = try JSONValue.parse(Data(file))
            ids += (json.objectValue?["features"]?.arrayValue ?? []).compactMap { $0.objectValue?["id"]?.stringValue }
        }
        #expect(ids == states.map(\.id))
    }

    /// Every entry's bytes, zip by zip in the replica's order.
    static func entries(_ files: [ReplicaFile], _ artifacts: DirectoryArtifactStore) throws -> [[UInt8]] {
        var result: [[UInt8]] = []
        for file in files {
            let archive = try Archive(url: URL(fileURLWithPath: try #require(artifacts.localPath(for: file.key))), accessMode: .read)
            for entry in archive {
                var data = Data()
                _ = try archive.extract(entry) { data.append($0) }
                result.append([UInt8](data))
            }
        }
        return result
    }
}
