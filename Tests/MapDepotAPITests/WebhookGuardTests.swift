import ExportCore
import Foundation
import MapDepotAPI
import Testing

/// Issue #9: the webhook guard at delivery time, against a real receiver on loopback: the host is resolved and
/// checked then, the connection goes to the address checked, and redirects are not followed.
@Suite struct WebhookGuardTests {
    static let body = Data(#"{"event":"TASK_COMPLETED"}"#.utf8)

    @Test func loopbackInAnySpellingIsRefusedAtDeliveryToo() async throws {
        let receiver = try await WebhookReceiver.start()
        let transport = HTTPClientWebhookTransport(allowPrivateNetworks: false)
        for host in ["127.0.0.1", "127.1", "2130706433", "0x7f.0.0.1", "[::ffff:7f00:1]", "localhost."] {
            await #expect(throws: WebhookRefused.self, "\(host)") {
                _ = try await transport.post(url: "http://\(host):\(receiver.port)/hook", headers: [], body: Self.body, timeout: .seconds(5))
            }
        }
        #expect(receiver.calls.isEmpty)
        await receiver.stop()
    }

    @Test func aPublicNameThatResolvesToAPrivateAddressIsRefused() async throws {
        let receiver = try await WebhookReceiver.start()
        let transport = HTTPClientWebhookTransport(allowPrivateNetworks: false) { _ in
            [IPAddress(literal: "93.184.216.34")!, IPAddress(literal: "127.0.0.1")!]
        }
        await #expect(throws: WebhookRefused.self) {
            _ = try await transport.post(url: "http://hooks.example.com:\(receiver.port)/hook", headers: [], body: Self.body, timeout: .seconds(5))
        }
        #expect(receiver.calls.isEmpty)
        await receiver.stop()
    }

    /// The name is resolved once, by MapDepot; the connection goes to that address with the URL's own Host header.
    /// (`hooks.example.com` cannot resolve to this receiver any other way.)
    @Test func theConnectionGoesToTheAddressThatWasChecked() async throws {
        let receiver = try await WebhookReceiver.start()
        let transport = HTTPClientWebhookTransport(allowPrivateNetworks: true) { name in
            #expect(name == "hooks.example.com")
            return [IPAddress(literal: "127.0.0.1")!]
        }
        let status = try await transport.post(url: "http://hooks.example.com:\(receiver.port)/hook", headers: [], body: Self.body, timeout: .seconds(5))
        #expect(status == 200)
        #expect(receiver.calls.count == 1)
        await receiver.stop()
    }

    @Test func redirectsAreNotFollowed() async throws {
        let receiver = try await WebhookReceiver.start()
        let transport = HTTPClientWebhookTransport(allowPrivateNetworks: true)
        let status = try await transport.post(url: "http://127.0.0.1:\(receiver.port)/redirect", headers: [], body: Self.body, timeout: .seconds(5))
        #expect(status == 302)
        #expect(receiver.calls.isEmpty)
        await receiver.stop()
    }
}
