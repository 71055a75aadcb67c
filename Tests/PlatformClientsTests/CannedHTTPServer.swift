import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A request the canned server received.
struct ReceivedRequest: Sendable {
    var method: String
    /// Path and query as sent, e.g. `/v3/orders/1/?expand=attendees`.
    var uri: String
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    var path: String { String(uri.split(separator: "?", maxSplits: 1).first ?? "") }
    var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// What the canned server answers.
struct CannedResponse: Sendable {
    var status: Int
    var headers: [(name: String, value: String)] = []
    var body: String
    /// Wait this long before answering (for timeout tests).
    var delay: Duration?

    static func json(_ status: Int, _ body: String, headers: [(name: String, value: String)] = []) -> CannedResponse {
        CannedResponse(status: status, headers: [(name: "Content-Type", value: "application/json")] + headers, body: body)
    }
}

/// The requests a server received, shared between its handlers and the test.
final class RequestLog: Sendable {
    private let entries = Mutex<[ReceivedRequest]>([])

    func append(_ request: ReceivedRequest) { entries.withLock { $0.append(request) } }
    var all: [ReceivedRequest] { entries.withLock { $0 } }
}

/// A loopback HTTP/1.1 server on 127.0.0.1 (ephemeral port) answering each request with whatever
/// `respond` returns and recording the requests: the platforms' stand-in for the client tests.
struct CannedHTTPServer: Sendable {
    typealias Responder = @Sendable (ReceivedRequest) -> CannedResponse

    let port: Int
    private let log: RequestLog

    /// `http://127.0.0.1:<port><path>`.
    func url(_ path: String = "") -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Every request received so far, in order.
    var requests: [ReceivedRequest] { log.all }

    /// Starts a server, runs `body`, stops the server.
    static func with<T>(_ respond: @escaping Responder, _ body: (CannedHTTPServer) async throws -> T) async throws -> T {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let log = RequestLog()
        let result: Result<T, any Error>
        do {
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        try channel.pipeline.syncOperations.addHandler(CannedHandler(respond: respond, log: log))
                    }
                }
                .bind(host: "127.0.0.1", port: 0)
                .get()
            do {
                result = .success(try await body(CannedHTTPServer(port: channel.localAddress?.port ?? 0, log: log)))
            } catch {
                result = .failure(error)
            }
            try? await channel.close()
        } catch {
            result = .failure(error)
        }
        try? await group.shutdownGracefully()
        return try result.get()
    }
}

private final class CannedHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let respond: CannedHTTPServer.Responder
    private let log: RequestLog
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(respond: @escaping CannedHTTPServer.Responder, log: RequestLog) {
        self.respond = respond
        self.log = log
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(let chunk):
            body += chunk.readableBytesView
        case .end:
            guard let head else { return }
            let request = ReceivedRequest(
                method: head.method.rawValue, uri: head.uri,
                headers: head.headers.map { (name: $0.name, value: $0.value) }, body: body)
            log.append(request)
            let answer = respond(request)
            if let delay = answer.delay {
                let loop = context.eventLoop.assumeIsolated()
                loop.scheduleTask(in: .nanoseconds(Int64(delay.components.seconds) * 1_000_000_000)) {
                    self.write(answer, context: context)
                }
            } else {
                write(answer, context: context)
            }
        }
    }

    private func write(_ answer: CannedResponse, context: ChannelHandlerContext) {
        var headers = HTTPHeaders(answer.headers)
        let bytes = ByteBuffer(string: answer.body)
        headers.add(name: "Content-Length", value: String(bytes.readableBytes))
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: answer.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
