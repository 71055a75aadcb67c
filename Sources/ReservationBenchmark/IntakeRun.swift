import TrafficPoliceCore
import NIOCore
import NIOHTTP1
import NIOPosix

/// Connects every connection of a plan to the intake socket, starts them together, and waits
/// until each has closed (its share done, or the grace time over).
enum IntakeRun {
    static func run(_ plan: IntakePlan, socket: String, group: any EventLoopGroup) async throws -> (IntakeTally, NIODeadline) {
        let sink = Locked(IntakeTally())
        var channels: [any Channel] = []
        do {
            for connection in 0..<plan.connections {
                let channel = try await ClientBootstrap(group: group)
                    .connectTimeout(.seconds(5))
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHTTPClientHandlers()
                            try channel.pipeline.syncOperations.addHandler(
                                IntakeConnectionHandler(plan: plan, connection: connection, sink: sink))
                        }
                    }
                    .connect(unixDomainSocketPath: socket).get()
                channels.append(channel)
            }
        } catch {
            for channel in channels { try? await channel.close() }
            throw error
        }
        let t0 = NIODeadline.now() + .milliseconds(20)
        for channel in channels { channel.pipeline.fireUserInboundEventTriggered(IntakeStart(t0: t0)) }
        for channel in channels { try? await channel.closeFuture.get() }
        return (sink.value, t0)
    }
}
