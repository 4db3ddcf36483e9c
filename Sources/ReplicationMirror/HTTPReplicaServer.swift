import AsyncHTTPClient
import Foundation
import JSONValues
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix
import ReplicationClient
import ReplicationCore

/// A MapDepot server's replication API over HTTP (AsyncHTTPClient): `GET /replica/latest`, `GET /replica?…&after_sequence`
/// and `GET /downloads/…` with `Range`. Redirects to an object store are followed by hand, without the token (a
/// pre-signed URL carries its own authorization, and S3 refuses a request with two).
public struct HTTPReplicaServer: ReplicaServer {
    let base: String
    let token: String?
    let layerId: Int
    let geometryType: GeometryType
    let client: HTTPClient
    let timeout: TimeAmount

    public init(server: String, token: String?, layerId: Int, geometryType: GeometryType, client: HTTPClient, timeout: TimeAmount = .seconds(60)) {
        base = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.token = token
        self.layerId = layerId
        self.geometryType = geometryType
        self.client = client
        self.timeout = timeout
    }

    /// An HTTP client that leaves redirects to this type.
    public static func makeClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(60))
        return HTTPClient(eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup.singleton), configuration: configuration)
    }

    public func sourceId() async throws -> UUID? {
        let (status, json) = try await getJSON("/layers")
        try Self.expectOK(status, json)
        let layer = json.arrayValue?.first { $0.objectValue?["layerId"]?.numberValue == Double(layerId) }
        return layer?.objectValue?["sourceId"]?.stringValue.flatMap(UUID.init(uuidString:))
    }

    public func latest(_ type: ReplicaType) async throws -> RemoteReplica? {
        let (status, json) = try await getJSON("/replica/latest?layer_id=\(layerId)&geometry_type=\(geometryType.rawValue)&replica_type=\(type.rawValue)")
        if status == 404 { return nil }
        try Self.expectOK(status, json)
        return try RemoteReplica(json: json)
    }

    public func deltas(after sequence: Int, limit: Int) async throws -> [RemoteReplica] {
        let (status, json) = try await getJSON(
            "/replica?layer_id=\(layerId)&geometry_type=\(geometryType.rawValue)&replica_type=delta&after_sequence=\(sequence)&limit=\(limit)"
        )
        if status == 410 { throw SyncError.cursorTooOld(Self.message(json) ?? "the server no longer keeps the deltas after \(sequence)") }
        try Self.expectOK(status, json)
        guard let items = json.arrayValue else { throw SyncError.protocolViolation("GET /replica did not answer an array") }
        return try items.map { json throws(SyncError) in try RemoteReplica(json: json) }
    }

    public func download(_ file: RemoteReplica.File, to path: String, progress: @escaping @Sendable (Int64) -> Void) async throws {
        let fileIO = NonBlockingFileIO(threadPool: .singleton)
        var url = file.url.hasPrefix("http://") || file.url.hasPrefix("https://") ? file.url : base + file.url
        var authorized = true
        for _ in 0..<5 {
            let handle = try await fileIO.openFile(
                _deprecatedPath: path, mode: [.read, .write], flags: .allowFileCreation(), eventLoop: MultiThreadedEventLoopGroup.singleton.next()
            ).get()
            defer { try? handle.close() }
            var offset = Int64(try await fileIO.readFileSize(fileHandle: handle, eventLoop: MultiThreadedEventLoopGroup.singleton.next()).get())
            var request = HTTPClientRequest(url: url)
            if authorized, let token { request.headers.add(name: "x-api-key", value: token) }
            if offset > 0 { request.headers.add(name: "Range", value: "bytes=\(offset)-") }
            let response = try await client.execute(request, timeout: timeout)
            switch response.status.code {
            case 301, 302, 303, 307, 308:
                guard let location = response.headers.first(name: "Location") else { throw SyncError.protocolViolation("a redirect without Location") }
                url = location.hasPrefix("/") ? base + location : location
                authorized = false
                continue
            case 416:
                // Everything is on disk already; the verification decides whether it is the right file.
                return
            case 200:
                offset = 0  // the server sent the whole file: start it again
                _ = try await fileIO.changeFileSize(fileHandle: handle, size: 0, eventLoop: MultiThreadedEventLoopGroup.singleton.next()).get()
            case 206:
                break
            default:
                let body = try await response.body.collect(upTo: 1 << 20)
                throw SyncError.server(status: Int(response.status.code), message: Self.message(try? JSONValue.parse(Data(buffer: body))) ?? "download failed")
            }
            progress(offset)
            for try await chunk in response.body {
                try await fileIO.write(fileHandle: handle, toOffset: offset, buffer: chunk, eventLoop: MultiThreadedEventLoopGroup.singleton.next()).get()
                offset += Int64(chunk.readableBytes)
                progress(offset)
            }
            return
        }
        throw SyncError.protocolViolation("too many redirects downloading \(file.url)")
    }

    /// Rings `doorbell` at every `replica` event of this geometry type on `GET /layers/{layerId}/events`, reconnecting
    /// after `retry` when the stream ends or fails, until cancelled. Each connection rings once too.
    public func listen(ringing doorbell: SyncDoorbell, retry: Duration = .seconds(5)) async {
        let marker = #""geometryType":"\#(geometryType.rawValue)""#
        while !Task.isCancelled {
            do {
                var request = HTTPClientRequest(url: base + "/layers/\(layerId)/events")
                if let token { request.headers.add(name: "x-api-key", value: token) }
                request.headers.add(name: "Accept", value: "text/event-stream")
                let response = try await client.execute(request, timeout: .hours(24 * 365))
                if response.status == .ok {
                    // Whatever was published before the stream was there is caught by one more run: no gap between
                    // the last run and the first event.
                    await doorbell.ring()
                    var pending = ""
                    for try await chunk in response.body {
                        pending += String(buffer: chunk)
                        while let end = pending.range(of: "\n\n") {
                            let event = pending[..<end.lowerBound]
                            if event.hasPrefix("event: replica"), event.contains(marker) { await doorbell.ring() }
                            pending.removeSubrange(..<end.upperBound)
                        }
                    }
                }
            } catch {}
            try? await Task.sleep(for: retry)
        }
    }

    private func getJSON(_ pathAndQuery: String) async throws -> (Int, JSONValue) {
        var request = HTTPClientRequest(url: base + pathAndQuery)
        if let token { request.headers.add(name: "x-api-key", value: token) }
        request.headers.add(name: "Accept", value: "application/json")
        let response = try await client.execute(request, timeout: timeout)
        let body = try await response.body.collect(upTo: 64 << 20)
        let json = (try? JSONValue.parse(Data(buffer: body))) ?? .null
        return (Int(response.status.code), json)
    }

    static func expectOK(_ status: Int, _ json: JSONValue) throws {
        guard status == 200 else { throw SyncError.server(status: status, message: message(json) ?? "no message") }
    }

    static func message(_ json: JSONValue?) -> String? {
        json?.objectValue?["message"]?.stringValue
    }
}
