import Foundation
import NIOPosix

/// The simulator started inside this process on 127.0.0.1 — API and control listeners, port 0 for
/// any free port — with its own event loop group: what tests of the simulator and of its clients run
/// against. `stop()` closes both listeners, the webhook workers and the group.
public final class LocalSimulator: Sendable {
    public let group: MultiThreadedEventLoopGroup
    public let simulator: Simulator
    public let api: SimulatorHTTPServer
    public let control: SimulatorHTTPServer

    /// Starts the simulator; `clock` is Unix time in seconds (tests may move it forward).
    public init(
        configuration: SimulatorConfiguration = SimulatorConfiguration(), seed: UInt64 = 1, apiPort: Int = 0,
        controlPort: Int = 0, threads: Int = 1,
        clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let simulator = Simulator(configuration: configuration, seed: seed, group: group, clock: clock)
        do {
            (api, control) = try await PlatformSimulatorService.start(
                apiPort: apiPort, controlPort: controlPort, simulator: simulator, group: group)
        } catch {
            simulator.shutdown()
            try? await group.shutdownGracefully()
            throw error
        }
        self.group = group
        self.simulator = simulator
    }

    /// Closes the listeners, stops the webhook workers and the demand runner, and shuts the group down.
    public func stop() async {
        await api.close()
        await control.close()
        simulator.shutdown()
        try? await group.shutdownGracefully()
    }
}
