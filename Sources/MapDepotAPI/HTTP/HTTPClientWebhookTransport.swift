import AsyncHTTPClient
import ExportCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Webhook calls over AsyncHTTPClient, guarded at delivery time (issue #9).
///
/// The host is resolved here, on NIO's blocking-I/O thread pool (`getaddrinfo` blocks; it must not hold one of
/// Swift's cooperative threads); unless private networks are allowed, the call is refused when any address
/// the name resolves to is loopback, private, link-local or otherwise non-public (``IPAddress/isPrivate``). The
/// connection then goes to the address that was checked — the client's DNS is overridden for this one call,
/// the `Host` header and TLS name stay those of the URL — so a name that answers a public address to the check and
/// a private one to the connection (DNS rebinding) gains nothing. Redirects are not followed: a 3xx is a failed
/// attempt like any other non-2xx.
public struct HTTPClientWebhookTransport: WebhookTransport {
    public typealias Resolver = @Sendable (String) async throws -> [IPAddress]

    let allowPrivateNetworks: Bool
    let resolver: Resolver

    /// - Parameter resolver: the system's resolver by default; tests give names answers of their own.
    public init(allowPrivateNetworks: Bool, resolver: @escaping Resolver = HTTPClientWebhookTransport.resolve) {
        self.allowPrivateNetworks = allowPrivateNetworks
        self.resolver = resolver
    }

    public func post(url: String, headers: [(String, String)], body: Data, timeout: Duration) async throws -> Int {
        guard let parsed = URL(string: url), let host = parsed.host, !host.isEmpty else { throw WebhookRefused("\(url) has no host") }
        let name = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        if !allowPrivateNetworks && WebhookPolicy.isPrivate(host: name) {
            throw WebhookRefused("\(name) is a loopback or private address")
        }
        let addresses = try await resolver(name)
        guard let chosen = addresses.first else { throw WebhookRefused("\(name) did not resolve to any address") }
        if !allowPrivateNetworks, let refused = addresses.first(where: \.isPrivate) {
            throw WebhookRefused("\(name) resolves to \(refused), a loopback or private address")
        }
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.dnsOverride = [name: chosen.description]
        configuration.timeout = .init(connect: .seconds(max(1, Int64(timeout.components.seconds))))
        let client = HTTPClient(eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup.singleton), configuration: configuration)
        do {
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            request.body = .bytes(ByteBuffer(bytes: body))
            let response = try await client.execute(request, timeout: .seconds(max(1, Int64(timeout.components.seconds))))
            _ = try await response.body.collect(upTo: 64 * 1024)
            try await client.shutdown()
            return Int(response.status.code)
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// Every address `name` resolves to now (an IP literal resolves to itself).
    @Sendable public static func resolve(_ name: String) async throws -> [IPAddress] {
        if let literal = IPAddress(literal: name) { return [literal] }
        return try await NIOThreadPool.singleton.runIfActive {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var list: UnsafeMutablePointer<addrinfo>?
            let code = getaddrinfo(name, nil, &hints, &list)
            guard code == 0, let first = list else {
                throw WebhookRefused("\(name) could not be resolved: \(String(cString: gai_strerror(code)))")
            }
            defer { freeaddrinfo(first) }
            var addresses: [IPAddress] = []
            var entry: UnsafeMutablePointer<addrinfo>? = first
            while let current = entry {
                if let socketAddress = current.pointee.ai_addr, let address = IPAddress(socketAddress: socketAddress),
                    !addresses.contains(address)
                {
                    addresses.append(address)
                }
                entry = current.pointee.ai_next
            }
            return addresses
        }
    }
}

/// A webhook call MapDepot would not make; recorded as the delivery's `lastError` and retried like a failure.
public struct WebhookRefused: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) { self.description = description }
}
