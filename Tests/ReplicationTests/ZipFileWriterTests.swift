import Crypto
import Foundation
import MapDepotCore
import Testing
import TestSupport
import ZIPFoundation

@testable import ZipPackaging

/// Our ZIP writer (issue #15) against three readers: `unzip -t`, Python's `zipfile` and ZIPFoundation, with classic
/// records and with every field forced into ZIP64; and its size forecast, on which the replica zips' cap relies.
@Suite struct ZipFileWriterTests {
    static func contents() -> [(name: String, bytes: [UInt8])] {
        var random = SeededGenerator(seed: 15)
        let noise = (0..<70_000).map { _ in UInt8.random(in: 0...255, using: &random) }
        let text = Array(String(repeating: #"{"type":"Feature","id":"p1","geometry":{"coordinates":[1,2],"type":"Point"}},"#, count: 40_000).utf8)
        return [("empty.json", []), ("a.geojson", Array("[]".utf8)), ("noise.bin", noise), ("features.geojson", text), ("é/ü.json", Array("{}".utf8))]
    }

    /// Threshold 1 puts every non-zero size and offset, and the entry count, in ZIP64 records. (0 would put the first
    /// entry's offset 0 there too, which no real zip does and ZIPFoundation reads as "no ZIP64 value".)
    @Test(arguments: [UInt64(0xFFFF_FFFF), 1])
    func everyReaderReadsWhatWasWritten(zip64Threshold: UInt64) async throws {
        let directory = try Fixtures.temporaryDirectory("zipwriter")
        let path = directory + "/t.zip"
        let writer = try ZipFileWriter(path: path, modified: Date(timeIntervalSince1970: 1_764_633_600), zip64Threshold: zip64Threshold)
        let compressor = ZipFileWriter.Compressor()
        var forecast: UInt64 = 0
        for (name, bytes) in Self.contents() {
            let entry = ZipFileWriter.compress(bytes, name: name, compressor: compressor)
            forecast = writer.sizeClosed(with: entry)
            try writer.add(entry)
            if name == "noise.bin" { #expect(entry.method == 0, "incompressible bytes are stored") }
            if name == "features.geojson" { #expect(entry.method == 8 && entry.data.count < bytes.count / 20) }
        }
        try writer.close()
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber).uint64Value
        #expect(size <= forecast, "the forecast before the last entry is never below the closed zip")

        let tested = try await Shell.run("unzip", ["-t", path])
        #expect(tested.contains("No errors detected"), "\(tested)")
        let python = """
            import hashlib, sys, zipfile
            with zipfile.ZipFile(sys.argv[1]) as z:
                assert z.testzip() is None
                for info in z.infolist():
                    print(info.filename, hashlib.sha256(z.read(info)).hexdigest(), info.date_time[0])
            """
        let listing = try await Shell.run("/usr/bin/python3", ["-c", python, path])
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        for (name, bytes) in Self.contents() {
            #expect(listing.contains("\(name) \(Hex.encode(SHA256.hash(data: Data(bytes)))) 2025"), "\(listing)")
            let entry = try #require(archive[name], "\(name) in \(archive.map(\.path))")
            var read = Data()
            _ = try archive.extract(entry, skipCRC32: false) { read.append($0) }
            #expect([UInt8](read) == bytes, "\(name)")
        }
    }
}
