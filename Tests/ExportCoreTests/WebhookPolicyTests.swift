import ExportCore
import Testing

/// Issue #9: the private-network guard read only dotted-decimal IPv4, so other spellings of the same addresses passed.
@Suite struct WebhookPolicyTests {
    /// Every spelling the issue found accepted, and more: loopback, private, link-local (cloud metadata), CGNAT,
    /// unique-local, multicast, unspecified, reserved, each also IPv4-mapped, compatible, NAT64 or 6to4.
    static let refused = [
        "127.0.0.1", "127.1", "2130706433", "0x7f.0.0.1", "0177.0.0.1", "0x7f000001", "127.0.0.1.", "localhost", "localhost.",
        "LOCALHOST", "app.localhost", "printer.local", "db.internal", "[::1]", "[0:0:0:0:0:0:0:1]", "[::ffff:7f00:1]",
        "[::ffff:127.0.0.1]", "[::127.0.0.1]", "[::]", "0.0.0.0", "0", "10.0.0.1", "10.1", "172.16.0.1", "172.31.255.255",
        "192.168.1.1", "3232235777", "169.254.169.254", "2852039166", "0xa9fea9fe", "[::ffff:169.254.169.254]",
        "[::ffff:a9fe:a9fe]", "100.64.0.1", "[fd00::1]", "[fc00::1]", "[fe80::1]", "[fe80::1%25eth0]", "[fec0::1]",
        "[ff02::1]", "224.0.0.1", "239.255.255.250", "255.255.255.255", "240.0.0.1", "[64:ff9b::7f00:1]",
        "[64:ff9b::a9fe:a9fe]", "[2002:7f00:1::]", "[2002:c0a8:101::1]", "198.18.0.1", "192.0.2.1", "[2001:db8::1]",
    ]
    static let accepted = ["93.184.216.34", "8.8.8.8", "1.1.1.1", "[2606:4700:4700::1111]", "example.com", "hooks.example.org", "[::ffff:8.8.8.8]", "[2002:808:808::]"]

    @Test(arguments: refused) func refusesNonPublicHostsInAnySpelling(host: String) {
        #expect(WebhookPolicy.isPrivate(host: host), "\(host) passed")
        #expect(throws: (any Error).self) {
            try WebhookPolicy(allowPrivateNetworks: false).check([Webhook(url: "http://\(host):8080/hook", events: [.taskCompleted])], member: "webhooks")
        }
    }

    @Test(arguments: accepted) func acceptsPublicHosts(host: String) throws {
        #expect(!WebhookPolicy.isPrivate(host: host), "\(host) refused")
        try WebhookPolicy(allowPrivateNetworks: false).check([Webhook(url: "https://\(host)/hook", events: [.taskCompleted])], member: "webhooks")
    }

    @Test func parsesLiteralsAsTheResolverDoes() {
        #expect(IPAddress(literal: "127.1") == .v4(0x7F00_0001))
        #expect(IPAddress(literal: "2130706433") == .v4(0x7F00_0001))
        #expect(IPAddress(literal: "0x7f.0.0.1") == .v4(0x7F00_0001))
        #expect(IPAddress(literal: "0177.0.0.1") == .v4(0x7F00_0001))
        #expect(IPAddress(literal: "example.com") == nil)
        #expect(IPAddress(literal: "::ffff:7f00:1")?.description == "::ffff:127.0.0.1")
        #expect(IPAddress(literal: "10.0.0.1")?.description == "10.0.0.1")
    }
}
