import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Refuses a request whose declared `Content-Length` is over the limit before its body is read (issue #9): a 413
/// with `Connection: close` goes out at once, the rest of the body is dropped unread, the write side is closed so
/// that the client sees the answer, and the connection is closed a moment later. (Hummingbird alone read a 100 MB
/// body to its end before answering.) Bodies sent without a length are still cut off by the route's own limit.
///
/// A change set (`POST /layers/{id}/changes`) has its own, larger limit: its body is read as it arrives and each
/// feature is bounded instead (issue #15).
final class BodyLimitHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let limit: Int
    private let changeSetLimit: Int
    private var refusing = false

    init(limit: Int, changeSetLimit: Int) {
        self.limit = limit
        self.changeSetLimit = changeSetLimit
    }

    /// `POST /layers/{id}/changes`, query or not.
    static func isChangeSet(_ head: HTTPRequest) -> Bool {
        guard head.method == .post, let path = head.path?.split(separator: "?", maxSplits: 1).first else { return false }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0].isEmpty && parts[1] == "layers" && parts[3] == "changes"
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if refusing { return }
        guard case .head(let head) = unwrapInboundIn(data), let declared = head.headerFields[.contentLength].flatMap(Int.init)
        else {
            context.fireChannelRead(data)
            return
        }
        let limit = Self.isChangeSet(head) ? changeSetLimit : limit
        guard declared > limit else {
            context.fireChannelRead(data)
            return
        }
        refusing = true
        let body = ByteBuffer(string: #"{"message":"the request body is \#(declared) bytes, larger than the limit of \#(limit)"}"#)
        var fields = HTTPFields()
        fields[.contentType] = "application/json; charset=utf-8"
        fields[.contentLength] = "\(body.readableBytes)"
        fields[.connection] = "close"
        context.write(wrapOutboundOut(.head(HTTPResponse(status: .contentTooLarge, headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            let context = loopBound.value
            context.close(mode: .output, promise: nil)
            context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(2)) { context.close(promise: nil) }
        }
    }
}
