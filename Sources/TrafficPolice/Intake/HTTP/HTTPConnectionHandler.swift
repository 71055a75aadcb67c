import Logging
import NIOCore
import NIOHTTP1

/// Serves the requests of one connection: admits each head through the `Router`, reads the body
/// up to the limit, runs the route's handler off the event loop and writes its answer.
///
/// A request refused from its head (404, 405, 415, 503, …) has its body, up to the limit, read and
/// dropped, then is answered and the connection stays open. One refused for its size (413), or
/// whose client waits for `100 Continue`, is answered at once and the connection closed.
final class HTTPConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private struct Receiving {
        var head: HTTPRequestHead
        var route: Route
        var parameter: String?
        var body: ByteBuffer
    }

    private enum State {
        case idle
        case receiving(Receiving)
        /// Refused from the head: drop the body, answer when `.end` arrives.
        case refusing(ServerResponse, head: HTTPRequestHead, routeName: String, discarded: Int)
        case processing
        case closing
    }

    private var state = State.idle
    private var closeAfterAnswer = false
    /// Writes a streamed body; cancelled when the connection closes or the server shuts down.
    private var streaming: Task<Void, Never>?
    private let router: Router
    private let limits: HTTPServerLimits
    private let metrics: HTTPServerMetrics
    private let logger: Logger

    init(router: Router, limits: HTTPServerLimits, metrics: HTTPServerMetrics, logger: Logger) {
        self.router = router
        self.limits = limits
        self.metrics = metrics
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            receivedHead(head, context: context)
        case .body(let chunk):
            receivedBody(chunk, context: context)
        case .end:
            receivedEnd(context: context)
        }
    }

    private func receivedHead(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard case .idle = state else { return }
        switch router.admit(head, maxBodyBytes: limits.maxBodyBytes) {
        case .reject(let response, let routeName, let bodyTooLarge):
            if bodyTooLarge { metrics.bodyTooLarge(route: routeName) }
            if bodyTooLarge || (head.announcesBody && head.expectsContinue) {
                // Never read a body we refuse for size, nor make a client send one it offered to hold back.
                state = .closing
                answer(response, to: head, route: routeName, close: true, context: context)
            } else {
                // A small (or streamed) body is read and dropped, so the connection stays usable.
                state = .refusing(response, head: head, routeName: routeName, discarded: 0)
            }
        case .accept(let route, let parameter):
            let capacity = min(head.declaredContentLength ?? 0, limits.maxBodyBytes)
            state = .receiving(
                Receiving(
                    head: head, route: route, parameter: parameter,
                    body: context.channel.allocator.buffer(capacity: capacity)))
            if head.expectsContinue {
                let interim = HTTPResponseHead(version: head.version, status: .continue)
                context.writeAndFlush(wrapOutboundOut(.head(interim)), promise: nil)
            }
        }
    }

    private func receivedBody(_ chunk: ByteBuffer, context: ChannelHandlerContext) {
        if case .refusing(let response, let head, let routeName, let discarded) = state {
            let total = discarded + chunk.readableBytes
            if total > limits.maxBodyBytes {
                answer(response, to: head, route: routeName, close: true, context: context)
            } else {
                state = .refusing(response, head: head, routeName: routeName, discarded: total)
            }
            return
        }
        guard case .receiving(var request) = state else { return }
        if request.body.readableBytes + chunk.readableBytes > limits.maxBodyBytes {
            state = .closing
            metrics.bodyTooLarge(route: request.route.name)
            answer(
                Router.bodyTooLarge(limits.maxBodyBytes), to: request.head, route: request.route.name,
                close: true, context: context)
            return
        }
        state = .idle  // drop the copy held by `state` so the append does not copy the buffer
        var chunk = chunk
        request.body.writeBuffer(&chunk)
        state = .receiving(request)
    }

    private func receivedEnd(context: ChannelHandlerContext) {
        switch state {
        case .refusing(let response, let head, let routeName, _):
            state = .processing
            answer(response, to: head, route: routeName, close: !head.isKeepAlive, context: context)
        case .receiving(let received):
            state = .processing
            context.triggerUserOutboundEvent(ConnectionPhase.requestReceived, promise: nil)
            let request = ServerRequest(
                head: received.head, path: received.head.path, parameter: received.parameter, body: received.body)
            let handler = received.route.handler
            let answered = context.eventLoop.makePromise(of: ServerResponse.self)
            // The handler runs on Swift's cooperative pool, never on the event loop: running it on the
            // loop (a task executor) saved a thread hop per request but doubled p99 at 5,000/s while
            // the workers ran (see the README's intake benchmark).
            Task {
                answered.succeed(await handler(request))
            }
            answered.futureResult.assumeIsolated().whenSuccess { response in
                self.answer(
                    response, to: received.head, route: received.route.name, close: !received.head.isKeepAlive,
                    context: context)
            }
        case .idle, .processing, .closing:
            break
        }
    }

    /// Writes a complete answer; afterwards the connection is closed, or ready for the next request.
    private func answer(
        _ response: ServerResponse, to request: HTTPRequestHead, route: String, close: Bool,
        context: ChannelHandlerContext
    ) {
        let close = close || closeAfterAnswer
        context.triggerUserOutboundEvent(ConnectionPhase.requestReceived, promise: nil)
        metrics.answered(route: route, status: response.status.code)
        if response.status.code >= 400 {
            logger.debug(
                "request refused",
                metadata: ["method": "\(request.method.rawValue)", "route": "\(route)", "status": "\(response.status.code)"])
        }
        if let chunks = response.stream, request.method != .HEAD {
            stream(chunks, head: response, to: request, context: context)
            return
        }
        var headers = response.headers
        headers.replaceOrAdd(name: "content-length", value: String(response.body.readableBytes))
        if close {
            headers.replaceOrAdd(name: "connection", value: "close")
        } else if request.version.major == 1 && request.version.minor == 0 {
            headers.replaceOrAdd(name: "connection", value: "keep-alive")
        }
        let head = HTTPResponseHead(version: request.version, status: response.status, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if response.body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(response.body))), promise: nil)
        }
        // The state changes before `.end` is written: writing it lets the pipelining handler hand
        // over the next (buffered) request re-entrantly, and that request must find us idle.
        if close {
            state = .closing
        } else {
            state = .idle
            context.triggerUserOutboundEvent(ConnectionPhase.responseSent, promise: nil)
        }
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if close {
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    /// Writes a streamed body chunk by chunk, each flushed and awaited (so a slow reader holds the
    /// stream back instead of filling memory), then ends the response and closes the connection.
    private func stream(
        _ chunks: AsyncStream<ByteBuffer>, head response: ServerResponse, to request: HTTPRequestHead,
        context: ChannelHandlerContext
    ) {
        var headers = response.headers
        headers.remove(name: "content-length")
        headers.replaceOrAdd(name: "connection", value: "close")
        state = .closing
        context.writeAndFlush(
            wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: response.status, headers: headers))),
            promise: nil)
        let channel = context.channel
        streaming = Task {
            for await chunk in chunks {
                do {
                    try await channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(chunk))).get()
                } catch {
                    break
                }
            }
            try? await channel.writeAndFlush(HTTPServerResponsePart.end(nil)).get()
            try? await channel.close().get()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is EndStreamsEvent {
            streaming?.cancel()
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        streaming?.cancel()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            logger.debug("connection error", metadata: ["error": "\(error)"])
            context.close(promise: nil)
            return
        }
        switch state {
        case .idle, .receiving, .refusing:
            let response: ServerResponse =
                switch parserError {
                case .headerOverflow:
                    .error(
                        .requestHeaderFieldsTooLarge, "headers_too_large",
                        "the request line and headers are over \(limits.maxHeaderBytes) bytes or \(limits.maxHeaderCount) fields")
                default:
                    .error(.badRequest, "malformed_request", "the request is not valid HTTP/1.1 (\(parserError))")
                }
            let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")
            answer(response, to: head, route: "unrouted", close: true, context: context)
        case .processing:
            // An answer is on its way: close once it is written.
            closeAfterAnswer = true
        case .closing:
            break
        }
    }
}

/// Fired at every connection when the server shuts down: a streamed response ends at once (the
/// pipelining handler's quiesce would wait for it forever, until the grace period ran out).
struct EndStreamsEvent: Sendable {}
