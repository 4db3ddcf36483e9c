import Foundation
import MapDepotCore

/// Which webhook URLs MapDepot will call: http or https only, and not loopback, link-local or private
/// addresses unless the deployment allows them (`webhooks.allow.private.networks`), so a client cannot make
/// the server probe its own network.
///
/// The check is on the URL's host as written (IP literals and `localhost` names). A public name that resolves
/// to a private address is not caught here; deployments that need that guard put an egress proxy in front.
public struct WebhookPolicy: Sendable {
    public var allowPrivateNetworks: Bool

    public init(allowPrivateNetworks: Bool) {
        self.allowPrivateNetworks = allowPrivateNetworks
    }

    /// - Throws: ``ServiceError`` `.invalid` naming the entry and the reason.
    public func check(_ webhooks: [Webhook], member: String) throws(ServiceError) {
        for (index, webhook) in webhooks.enumerated() {
            guard let url = URL(string: webhook.url), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
                let host = url.host?.lowercased(), !host.isEmpty
            else { throw .invalid("\(member)[\(index)].url must be an absolute http or https URL") }
            if !allowPrivateNetworks && Self.isPrivate(host: host) {
                throw .invalid(
                    "\(member)[\(index)].url points at a loopback or private address (\(host)); such webhooks are refused unless MAPDEPOT_WEBHOOKS_ALLOW_PRIVATE_NETWORKS=true"
                )
            }
        }
    }

    /// Loopback, private (RFC 1918, RFC 4193), link-local, unspecified and CGNAT addresses, and local names.
    public static func isPrivate(host: String) -> Bool {
        let host = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if host == "localhost" || host.hasSuffix(".localhost") || host.hasSuffix(".local") || host.hasSuffix(".internal") { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false).map { Int($0) }
        if parts.count == 4, parts.allSatisfy({ $0 != nil && (0...255).contains($0!) }) {
            let a = parts[0]!, b = parts[1]!
            return a == 127 || a == 10 || a == 0 || (a == 172 && (16...31).contains(b)) || (a == 192 && b == 168)
                || (a == 169 && b == 254) || (a == 100 && (64...127).contains(b))
        }
        if host.contains(":") {
            let lower = host.lowercased()
            return lower == "::1" || lower == "::" || lower.hasPrefix("fc") || lower.hasPrefix("fd") || lower.hasPrefix("fe80")
                || lower.hasPrefix("::ffff:127.") || lower.hasPrefix("::ffff:10.") || lower.hasPrefix("::ffff:192.168.")
        }
        return false
    }
}
