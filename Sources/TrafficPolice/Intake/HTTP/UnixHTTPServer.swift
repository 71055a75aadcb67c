import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// HTTP/1.1 (swift-nio's codec) on a Unix socket, shared by `WebhookIntake` and `AdminServer`:
/// binding, per-connection limits and timeouts, the connection limit, and graceful shutdown.
struct UnixHTTPServer: Sendable {
    var binding: SocketBinding
    var router: Router
    var limits: HTTPServerLimits
    var metrics: HTTPServerMetrics
    var logger: Logger
    var group: any EventLoopGroup

    /// Binds, signals `listening`, serves until graceful shutdown (or cancellation), then stops
    /// accepting, lets in-flight requests finish (up to the grace period) and closes.
    func run(listening: ListeningSignal, onListening: (@Sendable () -> Void)?) async throws {
        let server: Running
        do {
            server = try await start()
        } catch {
            listening.fulfil(.failure(error))
            throw error
        }
        logger.info("listening", metadata: ["socket": "\(binding)"])
        listening.fulfil(.success(()))
        onListening?()
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                try? await server.channel.closeFuture.get()
            } onCancel: {
                server.shutdown(gracePeriod: .zero)
            }
        } onGracefulShutdown: {
            server.shutdown(gracePeriod: limits.shutdownGracePeriod)
        }
        server.shutdown(gracePeriod: limits.shutdownGracePeriod)
        await server.registry.drained()
        server.removeSocketFile()
        logger.info("stopped", metadata: ["socket": "\(binding)"])
    }

    /// A bound server.
    struct Running: Sendable {
        let channel: any Channel
        let registry: ConnectionRegistry
        let socketFile: SocketFile?

        /// Stops accepting, asks every connection to finish its request and close, and closes
        /// whatever is left after `gracePeriod`. Idempotent.
        func shutdown(gracePeriod: TimeAmount) {
            guard let open = registry.beginShutdown() else {
                if gracePeriod == .zero { registry.closeAll() }
                return
            }
            channel.close(promise: nil)
            for connection in open {
                connection.pipeline.fireUserInboundEventTriggered(EndStreamsEvent())
                connection.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
            }
            let registry = self.registry
            if gracePeriod == .zero {
                registry.closeAll()
            } else {
                channel.eventLoop.scheduleTask(in: gracePeriod) { registry.closeAll() }
            }
        }

        func removeSocketFile() {
            socketFile?.removeIfUnchanged()
        }
    }

    func start() async throws -> Running {
        let registry = ConnectionRegistry(limit: limits.maxConnections)
        let bootstrap = makeBootstrap(registry: registry)
        switch binding {
        case .path(let path, let mode):
            let channel = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
            guard chmod(path, mode_t(mode)) == 0 else {
                let code = errno
                try? await channel.close()
                throw SocketSetupError(path: path, operation: "chmod", errno: code)
            }
            return Running(channel: channel, registry: registry, socketFile: SocketFile(path: path))
        case .descriptor(let descriptor):
            let channel = try await bootstrap.withBoundSocket(descriptor).get()
            return Running(channel: channel, registry: registry, socketFile: nil)
        }
    }

    private func makeBootstrap(registry: ConnectionRegistry) -> ServerBootstrap {
        let limits = self.limits
        let router = self.router
        let metrics = self.metrics
        let logger = self.logger
        let decoderLimits = {
            var decoderLimits = NIOHTTPDecoderLimitConfiguration()
            decoderLimits.maxHeaderFieldSize = limits.maxHeaderBytes
            decoderLimits.maxHeaderListSize = limits.maxHeaderBytes
            decoderLimits.maxHeaderFieldCount = limits.maxHeaderCount
            return decoderLimits
        }()
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.maxMessagesPerRead, value: 4)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    guard registry.admit(channel) else {
                        metrics.answered(route: "unrouted", status: 503)
                        try pipeline.addHandler(
                            ConnectionRefusalHandler(
                                retryAfterSeconds: limits.retryAfterSeconds,
                                message: "too many connections, or shutting down"))
                        return
                    }
                    try pipeline.addHandler(
                        IdleStateHandler(readTimeout: limits.readTimeout, allTimeout: limits.idleTimeout))
                    try pipeline.addHandler(
                        RequestTimeoutHandler(requestTimeout: limits.requestTimeout) {
                            metrics.answered(route: "unrouted", status: 408)
                        })
                    try pipeline.configureHTTPServerPipeline(
                        withPipeliningAssistance: true, withErrorHandling: false,
                        withEncoderConfiguration: .init(), withDecoderLimitConfiguration: decoderLimits)
                    try pipeline.addHandler(
                        HTTPConnectionHandler(router: router, limits: limits, metrics: metrics, logger: logger))
                }
            }
    }
}

/// A socket file this process created, removed on shutdown unless something else replaced it.
struct SocketFile: Sendable {
    let path: String
    let device: UInt64
    let inode: UInt64

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        self.path = path
        self.device = UInt64(info.st_dev)
        self.inode = UInt64(info.st_ino)
    }

    func removeIfUnchanged() {
        var info = stat()
        guard stat(path, &info) == 0, UInt64(info.st_dev) == device, UInt64(info.st_ino) == inode else { return }
        unlink(path)
    }
}

/// Setting up the socket file failed after binding.
public struct SocketSetupError: Error, CustomStringConvertible {
    public var path: String
    public var operation: String
    public var errno: Int32

    public var description: String {
        "\(operation) \(path): \(String(cString: strerror(errno)))"
    }
}
