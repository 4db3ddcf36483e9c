import AsyncHTTPClient
import ExportCore
import Foundation
import NIOCore
import NIOHTTP1

/// Webhook calls over AsyncHTTPClient's shared client.
struct HTTPClientWebhookTransport: WebhookTransport {
    let client: HTTPClient

    func post(url: String, headers: [(String, String)], body: Data, timeout: Duration) async throws -> Int {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let seconds = Int64(timeout.components.seconds)
        let response = try await client.execute(request, timeout: .seconds(max(1, seconds)))
        _ = try await response.body.collect(upTo: 64 * 1024)
        return Int(response.status.code)
    }
}
