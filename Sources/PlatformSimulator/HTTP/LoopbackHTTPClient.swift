import NIOCore
import NIOHTTP1
import NIOPosix

/// A one-request-per-connection HTTP/1.1 client on swift-nio for loopback TCP or a Unix socket:
/// how the simulator delivers webhooks, and how its tests talk to it.
public struct LoopbackHTTPClient: Sendable {
    /// Where to connect.
    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case unixSocket(String)
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    let group: any EventLoopGroup

    public init(group: any EventLoopGroup) { self.group = group }

    /// Sends one request and returns the whole response; fails on connect errors and after `timeout`.
    public func send(
        _ endpoint: Endpoint, method: String, path: String, headers: [(String, String)] = [], body: [UInt8] = [],
        timeout: TimeAmount = .seconds(10)
    ) async throws -> SimResponse {
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                }
            }
        let channel: any Channel
        switch endpoint {
        case .tcp(let host, let port): channel = try await bootstrap.connect(host: host, port: port).get()
        case .unixSocket(let path): channel = try await bootstrap.connect(unixDomainSocketPath: path).get()
        }
        let promise = channel.eventLoop.makePromise(of: SimResponse.self)
        let timer = channel.eventLoop.scheduleTask(in: timeout) {
            promise.fail(Failure(description: "no response within \(timeout)"))
            channel.close(promise: nil)
        }
        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: path)
        head.headers.add(name: "Host", value: endpoint.hostHeader)
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        head.headers.replaceOrAdd(name: "Content-Length", value: String(body.count))
        head.headers.replaceOrAdd(name: "Connection", value: "close")
        let requestHead = head
        let requestBody = body
        try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHandler(ResponseCollector(promise: promise))
            channel.write(HTTPClientRequestPart.head(requestHead), promise: nil)
            if !requestBody.isEmpty {
                channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: requestBody))), promise: nil)
            }
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        }.get()
        defer {
            timer.cancel()
            channel.close(promise: nil)
        }
        return try await promise.futureResult.get()
    }
}

extension LoopbackHTTPClient.Endpoint {
    var hostHeader: String {
        switch self {
        case .tcp(let host, let port): "\(host):\(port)"
        case .unixSocket: "localhost"
        }
    }
}

/// Gathers one response and completes the promise at its end (or fails it if the connection closes first).
private final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<SimResponse>
    private var head: HTTPResponseHead?
    private var body: [UInt8] = []

    init(promise: EventLoopPromise<SimResponse>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body(let chunk):
            body.append(contentsOf: chunk.readableBytesView)
        case .end:
            guard let head else { return }
            promise.succeed(
                SimResponse(status: Int(head.status.code), headers: head.headers.map { ($0.name, $0.value) }, body: body))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(LoopbackHTTPClient.Failure(description: "connection closed before the response ended"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }
}
