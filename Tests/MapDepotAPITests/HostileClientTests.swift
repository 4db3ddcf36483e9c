import Foundation
import GeoJSON
import HTTPTypes
import HummingbirdTesting
import JSONValues
import MapDepotAPI
import NIOCore
import Testing
import TestSupport

/// Issue #9: hostile clients get a clear 4xx or are cut off, and everyone else is still served.
@Suite struct HostileClientTests {
    /// A client in Python on raw sockets: 200 slow-loris connections that never finish their headers, and a POST that
    /// declares 1 GB to the change route. Prints what it saw as JSON.
    static let script = """
        import json, socket, sys, time
        port, token = int(sys.argv[1]), sys.argv[2]
        result = {}
        loris = []
        for _ in range(200):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"GET /export-tasks HTTP/1.1\\r\\nHost: x\\r\\nx-api-key: " + token.encode())
            loris.append(s)
        # Others are served while they hang.
        s = socket.create_connection(("127.0.0.1", port)); s.settimeout(5)
        s.sendall(b"GET /liveness HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
        result["liveness"] = s.recv(100).split(b" ")[1].decode(); s.close()
        # 1 GB declared to the change route (over its 512 MB limit): answered at once, the connection closed.
        s = socket.create_connection(("127.0.0.1", port)); s.settimeout(5)
        started = time.time()
        s.sendall(f"POST /layers/1/changes HTTP/1.1\\r\\nHost: x\\r\\nx-api-key: {token}\\r\\nContent-Type: application/json\\r\\nContent-Length: 1000000000\\r\\n\\r\\n".encode() + b"[" * 65536)
        answer = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk: break
                answer += chunk
        except socket.timeout:
            result["closed"] = False
        result.setdefault("closed", True)
        result["tooLarge"] = answer.split(b" ")[1].decode() if answer else "none"
        result["tooLargeSeconds"] = time.time() - started
        # The idle timeout (2 s here) closes every slow-loris socket.
        time.sleep(4)
        closed = 0
        for s in loris:
            s.settimeout(1)
            try:
                if s.recv(100) == b"": closed += 1
            except (socket.timeout, ConnectionResetError):
                closed += 0 if isinstance(sys.exc_info()[1], socket.timeout) else 1
        result["lorisClosed"] = closed
        s = socket.create_connection(("127.0.0.1", port)); s.settimeout(5)
        s.sendall(b"GET /liveness HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
        result["livenessAfter"] = s.recv(100).split(b" ")[1].decode(); s.close()
        print(json.dumps(result))
        """

    @Test func slowLorisAndHugeBodiesDoNotHoldTheServer() async throws {
        let server = try await TestServer.make { $0.http.idleTimeoutSeconds = 2 }
        try await server.run { client in
            let port = try #require(client.port)
            let output = try await Shell.run(GDAL.python, ["-c", Self.script, "\(port)", server.writer])
            let seen = try JSONValue.parse(Data(output.utf8)).objectValue ?? [:]
            #expect(seen["liveness"] == .string("200"), "\(output)")
            #expect(seen["tooLarge"] == .string("413"), "\(output)")
            #expect(seen["closed"] == .bool(true), "\(output)")
            #expect((seen["tooLargeSeconds"]?.numberValue ?? 99) < 2, "\(output)")
            #expect(seen["lorisClosed"] == .number(200), "\(output)")
            #expect(seen["livenessAfter"] == .string("200"), "\(output)")
        }
    }

    @Test func malformedBodiesGetAClear400() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            try await client.addRecord(server)
            let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
            for (body, words) in [
                (deep, "nest more than 512"), (#"{"a":1,"a":2}"#, "appears twice"), (#"{"catalogRecordID":"x",}"#, "trailing comma"),
                ("1e400", "out of range"),
            ] {
                let response = try await client.call(.post, "/export-tasks", token: server.alice, body: body)
                #expect(response.status == .badRequest)
                #expect(response.message.contains(words), "\(response.message)")
            }
            // Last on this client: the server closes the connection after a 413 (see BodyLimitHandler).
            let large = try await client.call(.post, "/export-tasks", token: server.alice, body: #"{"x":""# + String(repeating: "a", count: 6 << 20) + #""}"#)
            #expect(large.status == .contentTooLarge)
            #expect(large.message.contains("larger than the limit"), "\(large.message)")
            #expect(large.headers[.connection] == "close")
        }
    }

    /// curl asks `Expect: 100-continue` before a large body and waits a second unless told to go on: the server tells it.
    @Test func aClientThatAsksBeforeSendingIsToldToGoOn() async throws {
        let server = try await TestServer.make()
        let directory = try Fixtures.temporaryDirectory("expect")
        try Data(("[" + String(repeating: "1,", count: 600_000) + "1]").utf8).write(to: URL(fileURLWithPath: directory + "/body.json"))
        try await server.run { client in
            let port = try #require(client.port)
            let result = try await Shell.execute(
                "curl", [
                    "-sv", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H", "x-api-key: \(server.alice)", "-H", "Content-Type: application/json",
                    "-H", "Expect: 100-continue", "--data-binary", "@\(directory)/body.json", "http://127.0.0.1:\(port)/export-tasks/estimate",
                ]
            )
            #expect(result.error.contains("< HTTP/1.1 100 Continue"), "\(result.error.prefix(2_000))")
            #expect(result.output == "400", "the body was read and judged: \(result.output)")
        }
    }

    /// A 100,000-vertex ROI is answered (estimate) while other requests still are.
    @Test func aHundredThousandVertexPolygonIsAnswered() async throws {
        let server = try await TestServer.make()
        let ring = (0..<100_000).map { index -> String in
            let angle = Double(index) / 100_000 * 2 * .pi
            let radius = 5 + (index % 2 == 0 ? 0.0 : 0.01)
            return "[\(10 + radius * cos(angle)),\(45 + radius * sin(angle))]"
        }
        let roi = #"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"maxResolutionDeg":0.0439453125},"geometry":{"type":"Polygon","coordinates":[[\#(ring.joined(separator: ",")),\#(ring[0])]]}}]}"#
        try await server.run { client in
            try await client.addRecord(server)
            let start = ContinuousClock.now
            let response = try await client.call(.post, "/export-tasks/estimate", token: server.alice, body: LoadTests.body(roi: roi))
            #expect(response.status == .ok, "\(response.message)")
            #expect(response.json.objectValue?["estimatedTiles"] != nil || response.json.objectValue?["tiles"] != nil, "\(String(buffer: response.body).prefix(300))")
            print("100,000-vertex estimate: \(ContinuousClock.now - start)")
        }
    }
}
