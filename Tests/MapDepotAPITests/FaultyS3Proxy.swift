import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Synchronization

/// A real S3 endpoint that fails (issue #9 "S3 answering 500/503"): an HTTP proxy on loopback in front of the test
/// S3 server (moto) that answers the first `failures` uploads of export packages (`PUT …/exports/…`) with 503 and
/// 500 in turn, S3's XML error body included, and forwards everything else.
final class FaultyS3Proxy: Sendable {
    private let failuresLeft: Mutex<Int>
    private let refused = Mutex(0)
    private let group: Mutex<ServiceGroup?> = Mutex(nil)
    private let target: String

    /// Uploads answered with an error so far.
    var refusals: Int { refused.withLock { $0 } }

    private init(target: String, failures: Int) {
        self.target = target
        self.failuresLeft = Mutex(failures)
    }

    /// Starts a proxy to `target` (`http://host:port`) and returns it with its own base URL.
    static func start(target: String, failures: Int) async throws -> (FaultyS3Proxy, String) {
        let proxy = FaultyS3Proxy(target: target, failures: failures)
        let ports = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "faulty-s3")
        logger.logLevel = .critical
        let app = Application(
            responder: CallbackResponder<BasicRequestContext> { request, _ in try await proxy.respond(to: request) },
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in ports.continuation.yield(channel.localAddress?.port ?? 0) }, logger: logger
        )
        let group = ServiceGroup(services: [app], logger: logger)
        proxy.group.withLock { $0 = group }
        Task { try await group.run() }
        var iterator = ports.stream.makeAsyncIterator()
        let port = await iterator.next() ?? 0
        return (proxy, "http://127.0.0.1:\(port)")
    }

    func stop() async {
        await group.withLock { $0 }?.triggerGracefulShutdown()
    }

    private func respond(to request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 256 << 20)
        if request.method == .put, request.uri.path.contains("/exports/") {
            let failure = failuresLeft.withLock { left -> Int? in
                guard left > 0 else { return nil }
                left -= 1
                return refused.withLock { $0 += 1; return $0 }
            }
            if let failure {
                let (status, code): (HTTPResponse.Status, String) = failure % 2 == 1 ? (.serviceUnavailable, "SlowDown") : (.internalServerError, "InternalError")
                let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>\(code)</Code><Message>injected by the test</Message></Error>"
                return Response(status: status, headers: [.contentType: "application/xml"], body: .init(byteBuffer: ByteBuffer(string: xml)))
            }
        }
        var forward = HTTPClientRequest(url: target + request.uri.string)
        forward.method = HTTPMethod(rawValue: request.method.rawValue)
        for field in request.headers where ![.contentLength, .transferEncoding, .connection].contains(field.name) {
            forward.headers.add(name: field.name.rawName, value: field.value)
        }
        forward.body = .bytes(body)
        let answer = try await HTTPClient.shared.execute(forward, timeout: .seconds(60))
        let bytes = try await answer.body.collect(upTo: 256 << 20)
        var headers = HTTPFields()
        for (name, value) in answer.headers where !["content-length", "transfer-encoding", "connection"].contains(name.lowercased()) {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        return Response(status: HTTPResponse.Status(code: Int(answer.status.code)), headers: headers, body: .init(byteBuffer: bytes))
    }
}
