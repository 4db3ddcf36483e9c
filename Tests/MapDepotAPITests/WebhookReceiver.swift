import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A real webhook receiver on loopback: fails the first `failFirst` calls with 500, checks signatures with
/// `secret`, records every call, and counts deliveries accepted more than once.
final class WebhookReceiver: Sendable {
    struct Call: Sendable {
        var delivery: String
        var event: String
        var body: Data
        var signatureValid: Bool?
        var accepted: Bool
    }

    final class State: Sendable {
        let value: Mutex<(calls: [Call], failuresLeft: Int)>
        init(failFirst: Int) { value = Mutex(([], failFirst)) }
    }

    private let state: State
    private let group: ServiceGroup
    let port: Int

    var url: String { "http://127.0.0.1:\(port)/hook" }
    var calls: [Call] { state.value.withLock { $0.calls } }
    var acceptedCalls: [Call] { calls.filter(\.accepted) }
    /// Deliveries accepted more than once (what a receiver would drop by `X-MapDepot-Delivery`).
    var duplicates: Int {
        Dictionary(grouping: acceptedCalls, by: \.delivery).values.filter { $0.count > 1 }.count
    }

    private init(state: State, group: ServiceGroup, port: Int) {
        self.state = state
        self.group = group
        self.port = port
    }

    static func start(secret: String? = nil, failFirst: Int = 0) async throws -> WebhookReceiver {
        let state = State(failFirst: failFirst)
        let router = Router()
        router.post("hook") { request, _ -> Response in
            let body = Data(try await request.body.collect(upTo: 16 << 20).readableBytesView)
            let delivery = request.headers[HTTPField.Name("X-MapDepot-Delivery")!] ?? ""
            let event = request.headers[HTTPField.Name("X-MapDepot-Event")!] ?? ""
            var valid: Bool?
            if let secret {
                valid = WebhookReceiver.verify(request.headers[HTTPField.Name("X-MapDepot-Signature")!], secret: secret, body: body)
            }
            let fail = state.value.withLock { value -> Bool in
                let fail = value.failuresLeft > 0
                if fail { value.failuresLeft -= 1 }
                value.calls.append(Call(delivery: delivery, event: event, body: body, signatureValid: valid, accepted: !fail))
                return fail
            }
            return Response(status: fail ? .internalServerError : .ok)
        }
        // A receiver that accepts and never answers (within any webhook timeout): its calls are counted.
        router.post("hang") { request, _ -> Response in
            _ = try await request.body.collect(upTo: 16 << 20)
            state.value.withLock { $0.calls.append(Call(delivery: "", event: "hang", body: Data(), signatureValid: nil, accepted: false)) }
            try await Task.sleep(for: .seconds(30))
            return Response(status: .ok)
        }
        // A receiver that sends callers elsewhere: MapDepot must not follow (issue #9).
        router.post("redirect") { _, _ -> Response in
            Response(status: .found, headers: [.location: "/hook"])
        }
        let ports = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "receiver")
        logger.logLevel = .critical
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in ports.continuation.yield(channel.localAddress?.port ?? 0) }, logger: logger
        )
        let group = ServiceGroup(services: [app], logger: logger)
        Task { try await group.run() }
        var iterator = ports.stream.makeAsyncIterator()
        let port = await iterator.next() ?? 0
        return WebhookReceiver(state: state, group: group, port: port)
    }

    func stop() async {
        await group.triggerGracefulShutdown()
    }

    /// The README's verification recipe: recompute HMAC-SHA256 over "<t>.<raw body>" and compare.
    static func verify(_ header: String?, secret: String, body: Data) -> Bool {
        guard let header else { return false }
        var fields: [String: String] = [:]
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            if pair.count == 2 { fields[pair[0]] = pair[1] }
        }
        guard let t = fields["t"], let v1 = fields["v1"] else { return false }
        var message = Data("\(t).".utf8)
        message.append(body)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8)))
        return mac.map { String(format: "%02x", $0) }.joined() == v1
    }
}
