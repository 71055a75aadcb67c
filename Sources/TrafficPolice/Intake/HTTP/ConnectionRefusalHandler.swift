import NIOCore

/// Installed instead of the HTTP handlers on a connection over the limit (or one accepted while
/// shutting down): answers 503 with Retry-After at once and closes.
final class ConnectionRefusalHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let response: ServerResponse

    init(retryAfterSeconds: Int, message: String) {
        self.response = .unavailable("too_many_connections", message, retryAfterSeconds: retryAfterSeconds)
    }

    func channelActive(context: ChannelHandlerContext) {
        let written = context.writeAndFlush(wrapOutboundOut(response.serialized()))
        written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Whatever the client sends is dropped: the answer does not depend on it.
    }
}
