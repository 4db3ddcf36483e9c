import ArgumentParser
import Foundation
import MapDepotCore
import S3Storage

/// `mapdepot-bench s3` (issue #5 part 4): publishes one large file (5 GiB by default) to an S3-compatible server through
/// the S3 artifact store (SHA-256 of the file + SigV4-signed multipart upload), and the same file with boto3's
/// `upload_file` (AWS's SDK for Python, multipart over 10 threads) as the peer.
struct BenchS3: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "s3", abstract: "A large multipart upload to an S3-compatible server vs boto3.")

    @Option(help: "The S3 endpoint, e.g. http://127.0.0.1:9000 (scripts/s3-server start prints one).") var endpoint: String
    @Option(help: "Bucket (created if missing).") var bucket = "mapdepot-bench"
    @Option(help: "File size in GiB.") var gib = 5.0
    @Option(help: "Multipart part size in MiB.") var partMib = 16
    @Option(help: "Parts in flight.") var concurrency = 4
    @Option var accessKey = "bench"
    @Option var secretKey = "bench"
    @Flag(help: "Skip the boto3 peer.") var skipPeer = false

    func run() async throws {
        let work = NSTemporaryDirectory() + "mapdepot-bench-s3-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let size = Int64(gib * 1_073_741_824)
        let client = S3Client(
            endpoint: try S3Endpoint(location: "s3://\(bucket)/bench", endpoint: endpoint, region: "us-east-1", pathStyle: true),
            signer: SigV4Signer(accessKey: accessKey, secretKey: secretKey, region: "us-east-1")
        )
        try await client.createBucket()
        let store = try S3ArtifactStore(
            client: client, staging: work + "/staging",
            settings: .init(partBytes: partMib << 20, uploadConcurrency: concurrency)
        )
        let key = "exports/1/large.gpkg"
        let staged = try store.stagingPath(for: key)
        let writeStart = Date()
        try Self.writeFile(staged, size: size)
        let copy = work + "/peer.bin"
        if !skipPeer { try FileManager.default.copyItem(atPath: staged, toPath: copy) }
        print(String(format: "made a %.2f GiB file in %.1f s", Double(size) / 1_073_741_824, Date().timeIntervalSince(writeStart)))

        let started = Date()
        let published = try await store.publish(stagingPath: staged, key: key)
        let seconds = Date().timeIntervalSince(started)
        let stored = try await client.headObject(client.endpoint.objectKey(key))
        guard published.size == size, stored == size else { throw ServiceError.invalid("uploaded \(stored ?? -1) bytes of \(size)") }
        let mib = Double(size) / 1_048_576
        let parts = (size + Int64(partMib << 20) - 1) / Int64(partMib << 20)
        print(String(
            format: "MapDepot S3 store: %.0f MiB in %.1f s = %.0f MiB/s (SHA-256 + %lld signed parts of %d MiB, %d in flight), peak RSS %d MB",
            mib, seconds, mib / seconds, parts, partMib, concurrency, PeakMemory.kilobytes() / 1024
        ))
        try await client.deleteObject(client.endpoint.objectKey(key))
        guard !skipPeer else { return }

        let script = """
            import boto3, time, sys
            from boto3.s3.transfer import TransferConfig
            s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id=sys.argv[4], aws_secret_access_key=sys.argv[5])
            start = time.time()
            s3.upload_file(sys.argv[2], sys.argv[3], "bench/peer.bin", Config=TransferConfig(multipart_chunksize=\(partMib) * 1024 * 1024))
            print(time.time() - start)
            s3.delete_object(Bucket=sys.argv[3], Key="bench/peer.bin")
            """
        let (_, output) = try BenchProcess.run("/usr/bin/env", ["python3", "-c", script, endpoint, copy, bucket, accessKey, secretKey])
        guard let peerSeconds = Double(output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw ServiceError.invalid("boto3 printed \(output)")
        }
        print(String(format: "boto3 upload_file (10 threads, no whole-file SHA-256): %.1f s = %.0f MiB/s", peerSeconds, mib / peerSeconds))
        print(String(format: "ratio: MapDepot %.2f× boto3", peerSeconds / seconds))
    }

    /// A file of pseudo-random bytes (a 16 MiB random block, its first 8 bytes a counter so no two blocks are equal).
    static func writeFile(_ path: String, size: Int64) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw ServiceError.invalid("cannot write \(path)")
        }
        defer { try? handle.close() }
        var block = Data((0..<(16 << 20)).map { _ in UInt8.random(in: 0...255) })
        var written: Int64 = 0
        var counter: UInt64 = 0
        while written < size {
            withUnsafeBytes(of: counter) { block.replaceSubrange(0..<8, with: $0) }
            let count = Int(min(Int64(block.count), size - written))
            try handle.write(contentsOf: block.prefix(count))
            written += Int64(count)
            counter += 1
        }
    }
}
