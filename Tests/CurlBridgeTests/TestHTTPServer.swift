import NIOCore
import NIOHTTP1
import NIOPosix

/// A loopback HTTP/1.1 server for the CurlBridge tests, bound to 127.0.0.1 on an ephemeral port.
///
/// Routes:
/// - `/echo...`: 200; body = "METHOD\nURI\n" + one "name: value" line per request header + "\n" + request body.
/// - `/status/<code>`: that status with `Retry-After: 7`, `X-Custom-Header: custom` and body "status <code>".
/// - `/delay/<ms>`: 200 "late" after the delay.
/// - `/large/<n>`: n bytes of "x" with Content-Length; `/large-chunked/<n>`: the same, chunked.
final class TestHTTPServer: Sendable {
    let port: Int
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel

    private init(port: Int, group: MultiThreadedEventLoopGroup, channel: any Channel) {
        self.port = port
        self.group = group
        self.channel = channel
    }

    /// `http://127.0.0.1:<port><path>`.
    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    static func start() async throws -> TestHTTPServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        try channel.pipeline.syncOperations.addHandler(TestHTTPHandler())
                    }
                }
                .bind(host: "127.0.0.1", port: 0)
                .get()
            guard let port = channel.localAddress?.port else {
                try? await channel.close()
                try? await group.shutdownGracefully()
                throw TestServerError.noPort
            }
            return TestHTTPServer(port: port, group: group, channel: channel)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }

    /// Runs `body` with a started server and stops it afterwards.
    static func with<T>(_ body: (TestHTTPServer) async throws -> T) async throws -> T {
        let server = try await start()
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }
}

enum TestServerError: Error { case noPort }

private final class TestHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private var head: HTTPRequestHead?
    private var body: ByteBuffer = ByteBuffer()

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            self.body.clear()
        case .body(var chunk):
            body.writeBuffer(&chunk)
        case .end:
            guard let head else { return }
            route(head, context: context)
        }
    }

    private func route(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let parts = path.split(separator: "/").map(String.init)
        switch (parts.first, parts.count > 1 ? Int(parts[1]) : nil) {
        case ("status", let code?):
            var headers = HTTPHeaders()
            headers.add(name: "Retry-After", value: "7")
            headers.add(name: "X-Custom-Header", value: "custom")
            respond(context, status: HTTPResponseStatus(statusCode: code), headers: headers, body: "status \(code)")
        case ("delay", let milliseconds?):
            let loop = context.eventLoop.assumeIsolated()
            loop.scheduleTask(in: .milliseconds(Int64(milliseconds))) {
                self.respond(context, status: .ok, headers: HTTPHeaders(), body: "late")
            }
        case ("large", let count?):
            respond(context, status: .ok, headers: HTTPHeaders(), body: String(repeating: "x", count: count))
        case ("large-chunked", let count?):
            respond(
                context, status: .ok, headers: HTTPHeaders(), body: String(repeating: "x", count: count),
                chunked: true)
        default:
            var text = "\(head.method.rawValue)\n\(head.uri)\n"
            for (name, value) in head.headers { text += "\(name): \(value)\n" }
            text += "\n"
            var out = ByteBuffer(string: text)
            var requestBody = body
            out.writeBuffer(&requestBody)
            respond(context, status: .ok, headers: HTTPHeaders(), body: out)
        }
    }

    private func respond(
        _ context: ChannelHandlerContext, status: HTTPResponseStatus, headers: HTTPHeaders, body: String,
        chunked: Bool = false
    ) {
        respond(context, status: status, headers: headers, body: ByteBuffer(string: body), chunked: chunked)
    }

    private func respond(
        _ context: ChannelHandlerContext, status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer,
        chunked: Bool = false
    ) {
        var headers = headers
        if chunked {
            headers.add(name: "Transfer-Encoding", value: "chunked")
        } else {
            headers.add(name: "Content-Length", value: String(body.readableBytes))
        }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        if chunked {
            var remaining = body
            while remaining.readableBytes > 0, let slice = remaining.readSlice(length: min(4096, remaining.readableBytes)) {
                context.write(wrapOutboundOut(.body(.byteBuffer(slice))), promise: nil)
            }
        } else {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
