import NIOCore
import NIOHTTP1
import NIOPosix

/// An HTTP/1.1 listener on 127.0.0.1 (swift-nio's server pipeline) that hands each complete request
/// to `respond`. Bodies over 1 MiB are answered 413.
public struct SimulatorHTTPServer: Sendable {
    public let channel: any Channel
    public let port: Int

    /// Binds `127.0.0.1:port` (0 = ephemeral).
    public static func bind(
        port: Int, group: any EventLoopGroup, respond: @escaping @Sendable (SimRequest) -> SimResponse
    ) async throws -> SimulatorHTTPServer {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(SimulatorHTTPHandler(respond: respond))
                }
            }
            .bind(host: "127.0.0.1", port: port)
            .get()
        guard let bound = channel.localAddress?.port else {
            try? await channel.close()
            throw LoopbackHTTPClient.Failure(description: "the listener has no port")
        }
        return SimulatorHTTPServer(channel: channel, port: bound)
    }

    /// `http://127.0.0.1:<port>`.
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public func close() async { try? await channel.close() }
}

/// Collects one request (head, body, end) and writes the responder's answer; keep-alive aware.
final class SimulatorHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let maxBodyBytes = 1 << 20
    private let respond: @Sendable (SimRequest) -> SimResponse
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false

    init(respond: @escaping @Sendable (SimRequest) -> SimResponse) { self.respond = respond }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
            tooLarge = false
        case .body(let chunk):
            if body.count + chunk.readableBytes > Self.maxBodyBytes {
                tooLarge = true
            } else {
                body.append(contentsOf: chunk.readableBytesView)
            }
        case .end:
            guard let head else { return }
            self.head = nil
            let response: SimResponse
            if tooLarge {
                response = .json(413, ["message": "request body over 1 MiB"])
            } else {
                let headers = head.headers.map { ($0.name, $0.value) }
                response = respond(SimRequest(method: head.method.rawValue, uri: head.uri, headers: headers, body: body))
            }
            write(response, for: head, context: context)
        }
    }

    private func write(_ response: SimResponse, for request: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = HTTPHeaders(response.headers)
        headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
        let keepAlive = request.isKeepAlive && !tooLarge
        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        let head = HTTPResponseHead(
            version: request.version, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if !response.body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: response.body)))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}
