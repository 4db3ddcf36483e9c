import AsyncHTTPClient
import Foundation
import GeoJSON
import JSONValues
import MapDepotAPI
import Synchronization
import Testing
import TestSupport

extension LoadTests {
    /// Holds `n` Server-Sent Events streams of one task open (raw sockets, one select loop), waits until each has its
    /// first `task` event, keeps them `hold` seconds, and reports how many got an event and how many are still open.
    static let sseScript = """
        import json, resource, selectors, socket, sys, time
        port, token, task, n, hold = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, n + 100)), hard))
        selector = selectors.DefaultSelector()
        request = f"GET /export-tasks/{task}/events HTTP/1.1\\r\\nHost: x\\r\\nx-api-key: {token}\\r\\n\\r\\n".encode()
        got, data = set(), {}
        for i in range(n):
            s = socket.create_connection(("127.0.0.1", port))
            s.setblocking(False)
            s.sendall(request)
            selector.register(s, selectors.EVENT_READ, i)
            data[i] = b""
        print("opened", flush=True)
        deadline, closed = time.time() + 60, set()
        while len(got) + len(closed) < n and time.time() < deadline:
            for key, _ in selector.select(timeout=1):
                chunk = key.fileobj.recv(65536)
                if not chunk:
                    closed.add(key.data); selector.unregister(key.fileobj); continue
                data[key.data] += chunk
                if b"event: task" in data[key.data]: got.add(key.data)
        print("streaming", flush=True)
        end = time.time() + hold
        while time.time() < end:
            for key, _ in selector.select(timeout=0.5):
                if not key.fileobj.recv(65536):
                    closed.add(key.data); selector.unregister(key.fileobj)
        print(json.dumps({"events": len(got), "closed": len(closed)}), flush=True)
        """

    /// Issue #9 item 5: 1,000 idle SSE connections (a PENDING task nobody works on) against the real binary: each gets
    /// its first event, none is dropped, other clients are answered meanwhile (`/liveness` within 1 s), the server's
    /// memory grows by a bounded amount, and the store is not polled once per stream (``RecentReads``). With the load
    /// test, on its own after the other tests: beside them, the 1 s bound would measure the suite.
    @Test func aThousandIdleEventStreamsAreHeldCheaply() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CrashSafetyTests.binary), "build the binary first (scripts/test does)")
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        try #require(limit.rlim_max >= 2_500, "needs 2,500 open files (hard limit \(limit.rlim_max))")
        let fixture = try await BinaryFixture.make("sse")
        defer { fixture.components.close() }
        let port = try CrashSafetyTests.freePort()
        let base = "http://127.0.0.1:\(port)"
        let server = CrashSafetyTests.mapdepot(
            ["serve", "--port", "\(port)", "--no-worker"], dataDir: fixture.directory,
            settings: ["MAPDEPOT_PUBLIC_URL": base, "MAPDEPOT_DATABASE_URL": fixture.config.database.url, "MAPDEPOT_HTTP_RATE_LIMIT_PER_SECOND": "0"]
        )
        try server.run()
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = client.shutdown() }
        try await CrashSafetyTests.waitUntilLive(client, base)
        let created = try await CrashSafetyTests.request(client, "POST", base + "/export-tasks", token: fixture.token, body: SecurityTests.smallExport)
        #expect(created.0 == 201, "\(String(decoding: created.1, as: UTF8.self))")
        let rssBefore = Self.residentBytes(server.processIdentifier)

        let python = Process()
        python.executableURL = URL(fileURLWithPath: GDAL.python)
        python.arguments = ["-c", Self.sseScript, "\(port)", fixture.token, "1", "1000", "6"]
        let output = Pipe()
        python.standardOutput = output
        try python.run()
        defer { if python.isRunning { python.terminate() } }
        let lines = LinesReader(output.fileHandleForReading)
        #expect(try await lines.next() == "opened")
        #expect(try await lines.next() == "streaming")
        // Held open now: others are still answered, quickly.
        var slowest = Duration.zero
        for _ in 0..<20 {
            let start = ContinuousClock.now
            #expect(try await CrashSafetyTests.request(client, "GET", base + "/liveness", token: nil).0 == 200)
            #expect(try await CrashSafetyTests.request(client, "GET", base + "/export-tasks/1", token: fixture.token).0 == 200)
            slowest = max(slowest, ContinuousClock.now - start)
            try await Task.sleep(for: .milliseconds(200))
        }
        let rssHeld = Self.residentBytes(server.processIdentifier)
        let report = try JSONValue.parse(Data((try await lines.next() ?? "").utf8)).objectValue ?? [:]
        #expect(report["events"] == .number(1_000), "\(report)")
        #expect(report["closed"] == .number(0), "\(report)")
        #expect(slowest < .seconds(1), "slowest answer beside 1,000 streams: \(slowest)")
        let grown = rssHeld - rssBefore
        print("1,000 SSE streams: server RSS \(rssBefore >> 20) MiB -> \(rssHeld >> 20) MiB; slowest answer \(slowest)")
        #expect(grown < 200 << 20, "RSS grew by \(grown >> 20) MiB for 1,000 streams")
        kill(server.processIdentifier, SIGTERM)
        #expect(try await CrashSafetyTests.waitForExit(server, timeout: 40) == 0)
    }

    /// VmRSS of a process, in bytes.
    static func residentBytes(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }
}

/// Lines of a child's output, read on a thread of their own (never a cooperative one).
final class LinesReader: Sendable {
    private let handle: FileHandle
    private let buffer = Mutex(Data())

    init(_ handle: FileHandle) { self.handle = handle }

    /// The next line, or nil at the end of the output.
    func next() async throws -> String? {
        try await OwnThread.run { [self] in
            while true {
                let line: String? = buffer.withLock { data in
                    guard let newline = data.firstIndex(of: 0x0A) else { return nil }
                    let line = String(decoding: data[data.startIndex..<newline], as: UTF8.self)
                    data.removeSubrange(data.startIndex...newline)
                    return line
                }
                if let line { return line }
                let chunk = handle.availableData
                if chunk.isEmpty { return nil }
                buffer.withLock { $0.append(chunk) }
            }
        }
    }
}
