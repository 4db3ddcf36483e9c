import Foundation
import MapDepotCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which webhook URLs MapDepot will call: http or https only, and not loopback, private, link-local,
/// unique-local, multicast, reserved or unspecified addresses unless the deployment allows them
/// (`webhooks.allow.private.networks`), so a client cannot make the server probe its own network.
///
/// Checked twice (issue #9): here, when the request names the URL, on the host as written — IP literals in every
/// spelling the system resolver accepts (`127.1`, `2130706433`, `0x7f.0.0.1`, `0177.0.0.1`, `[::ffff:7f00:1]`)
/// and local names (`localhost.`); and by the webhook transport at delivery time, on every address the name
/// resolves to then, connecting to the address it checked (no DNS rebinding) and never following a redirect.
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

    /// A host as written in a URL: a local name, or an IP literal of a non-public address.
    public static func isPrivate(host: String) -> Bool {
        var name = host.lowercased()
        if name.hasPrefix("[") && name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        while name.hasSuffix(".") { name.removeLast() }
        if name.isEmpty || name == "localhost" || name.hasSuffix(".localhost") || name.hasSuffix(".local") || name.hasSuffix(".internal") {
            return true
        }
        if let address = IPAddress(literal: name) { return address.isPrivate }
        return false
    }
}

/// An IPv4 or IPv6 address, as the network sees it.
public enum IPAddress: Sendable, Hashable, CustomStringConvertible {
    case v4(UInt32)
    /// 16 bytes, network order.
    case v6([UInt8])

    /// An IP literal in any spelling the system resolver reads as one: for IPv4 what `inet_aton` accepts (one to
    /// four parts, decimal, octal with a leading 0, hex with 0x), for IPv6 what `inet_pton` accepts. A zone
    /// (`fe80::1%eth0`) is read without it.
    public init?(literal text: String) {
        var text = text
        if text.hasPrefix("[") && text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        if let zone = text.firstIndex(of: "%") { text = String(text[..<zone]) }
        var v4 = in_addr()
        if text.contains(":") {
            var v6 = in6_addr()
            guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
            self = .v6(withUnsafeBytes(of: &v6) { Array($0) })
        } else if inet_aton(text, &v4) != 0 {
            self = .v4(UInt32(bigEndian: v4.s_addr))
        } else {
            return nil
        }
    }

    /// An address from the C socket structures `getaddrinfo` answers with.
    public init?(socketAddress pointer: UnsafePointer<sockaddr>) {
        switch Int32(pointer.pointee.sa_family) {
        case AF_INET:
            let address = pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr }
            self = .v4(UInt32(bigEndian: address))
        case AF_INET6:
            var address = pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
            self = .v6(withUnsafeBytes(of: &address) { Array($0) })
        default:
            return nil
        }
    }

    /// Loopback, unspecified, private (RFC 1918), shared (CGNAT), link-local (cloud metadata at 169.254.169.254),
    /// documentation, benchmarking, multicast, reserved and broadcast IPv4; for IPv6 the same classes (unique-local,
    /// link- and site-local, multicast, documentation, discard) and any IPv4 address embedded in an IPv4-mapped,
    /// IPv4-compatible, NAT64 or 6to4 address.
    public var isPrivate: Bool {
        switch self {
        case .v4(let value):
            let a = value >> 24, b = (value >> 16) & 0xFF, c = (value >> 8) & 0xFF
            return a == 0 || a == 10 || a == 127 || a >= 224
                || (a == 100 && (64...127).contains(b)) || (a == 169 && b == 254) || (a == 172 && (16...31).contains(b))
                || (a == 192 && b == 168) || (a == 192 && b == 0 && (c == 0 || c == 2)) || (a == 198 && (b == 18 || b == 19))
                || (a == 198 && b == 51 && c == 100) || (a == 203 && b == 0 && c == 113)
        case .v6(let bytes):
            guard bytes.count == 16 else { return true }
            func embedded(at offset: Int) -> IPAddress {
                .v4(bytes[offset..<offset + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            }
            let zeroPrefix = bytes[0..<10].allSatisfy { $0 == 0 }
            if zeroPrefix && bytes[10] == 0xFF && bytes[11] == 0xFF { return embedded(at: 12).isPrivate }  // ::ffff:a.b.c.d
            if zeroPrefix && bytes[10] == 0 && bytes[11] == 0 { return true }  // ::, ::1, ::a.b.c.d (deprecated)
            if bytes[0..<12] == [0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0] { return embedded(at: 12).isPrivate }  // NAT64
            if bytes[0] == 0x20 && bytes[1] == 0x02 { return embedded(at: 2).isPrivate }  // 6to4
            if bytes[0] & 0xFE == 0xFC || bytes[0] == 0xFF { return true }  // unique-local, multicast
            if bytes[0] == 0xFE && bytes[1] & 0x80 == 0x80 { return true }  // link-local fe80::/10, site-local fec0::/10
            if bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0x0D && bytes[3] == 0xB8 { return true }  // documentation
            if bytes[0..<8] == [0x01, 0, 0, 0, 0, 0, 0, 0] { return true }  // discard 100::/64
            return false
        }
    }

    /// The address in its usual text form (dotted quad; RFC 5952 IPv6 as `inet_ntop` writes it).
    public var description: String {
        switch self {
        case .v4(let value):
            return [value >> 24, (value >> 16) & 0xFF, (value >> 8) & 0xFF, value & 0xFF].map(String.init).joined(separator: ".")
        case .v6(var bytes):
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            guard bytes.count == 16, inet_ntop(AF_INET6, &bytes, &buffer, socklen_t(buffer.count)) != nil else { return "::" }
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }
}
