import NIOCore

/// What the HTTP handler tells the timeout handler about the request it is on.
enum ConnectionPhase: Sendable {
    /// The request was read completely (or refused): its clock stops.
    case requestReceived
    /// The answer is written and the connection stays open for the next request.
    case responseSent
}

/// Sits in front of the HTTP decoder and bounds how long a request may take to arrive.
///
/// The clock starts at a request's first byte, so it also catches clients that trickle the request
/// line and headers (which the decoder would buffer silently). A request not complete within
/// `requestTimeout`, or with no byte for `readTimeout` (IdleStateHandler `.read`), is answered 408
/// and the connection closed; a connection idle between requests for `idleTimeout`
/// (IdleStateHandler `.all`) is just closed.
final class RequestTimeoutHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case idle
        case receiving(Scheduled<Void>)
        case processing(sawBytes: Bool)
        case closed
    }

    private var state = State.idle
    private let requestTimeout: TimeAmount
    private let onTimeout: @Sendable () -> Void

    init(requestTimeout: TimeAmount, onTimeout: @escaping @Sendable () -> Void) {
        self.requestTimeout = requestTimeout
        self.onTimeout = onTimeout
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch state {
        case .idle:
            arm(context: context)
        case .processing:
            state = .processing(sawBytes: true)
        case .receiving, .closed:
            break
        }
        context.fireChannelRead(data)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let phase = event as? ConnectionPhase else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        switch (phase, state) {
        case (_, .closed):
            break
        case (.requestReceived, .receiving(let timer)):
            timer.cancel()
            state = .processing(sawBytes: false)
        case (.requestReceived, _):
            state = .processing(sawBytes: false)
        case (.responseSent, .processing(let sawBytes)):
            state = .idle
            if sawBytes { arm(context: context) }
        case (.responseSent, _):
            break
        }
        promise?.succeed(())
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let idle = event as? IdleStateHandler.IdleStateEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch (idle, state) {
        case (.read, .receiving), (.all, .receiving):
            timeOut(context: context, reason: "no data arrived for too long")
        case (.all, .idle):
            state = .closed
            context.close(promise: nil)
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .receiving(let timer) = state { timer.cancel() }
        state = .closed
        context.fireChannelInactive()
    }

    private func arm(context: ChannelHandlerContext) {
        let timer = context.eventLoop.assumeIsolated().scheduleTask(in: requestTimeout) {
            self.timeOut(context: context, reason: "the request did not arrive in time")
        }
        state = .receiving(timer)
    }

    private func timeOut(context: ChannelHandlerContext, reason: String) {
        guard case .receiving(let timer) = state else { return }
        timer.cancel()
        state = .closed
        onTimeout()
        let response = ServerResponse.error(.requestTimeout, "request_timeout", reason)
        let written = context.writeAndFlush(wrapOutboundOut(response.serialized()))
        written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}
