import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Refuses a request whose declared `Content-Length` is over the limit before its body is read (issue #9): a 413
/// with `Connection: close` goes out at once, the rest of the body is dropped unread, the write side is closed so
/// that the client sees the answer, and the connection is closed a moment later. (Hummingbird alone read a 100 MB
/// body to its end before answering.) Bodies sent without a length are still cut off by the route's own limit.
final class BodyLimitHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let limit: Int
    private var refusing = false

    init(limit: Int) {
        self.limit = limit
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if refusing { return }
        guard case .head(let head) = unwrapInboundIn(data), let declared = head.headerFields[.contentLength].flatMap(Int.init), declared > limit
        else {
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
