import NIOCore
import NIOPosix
import ServiceLifecycle

/// The simulator as a `Service`: binds the API and control listeners on 127.0.0.1, reports their
/// URLs, serves until graceful shutdown (SIGTERM/SIGINT through `ServiceGroup`), then closes both.
public struct PlatformSimulatorService: Service {
    public var apiPort: Int
    public var controlPort: Int
    public var simulator: Simulator
    public var group: any EventLoopGroup
    /// Called once both listeners are bound, with the API and control base URLs.
    public var onListening: @Sendable (_ api: String, _ control: String) -> Void

    public init(
        apiPort: Int, controlPort: Int, simulator: Simulator, group: any EventLoopGroup,
        onListening: @escaping @Sendable (String, String) -> Void
    ) {
        self.apiPort = apiPort
        self.controlPort = controlPort
        self.simulator = simulator
        self.group = group
        self.onListening = onListening
    }

    public func run() async throws {
        let listeners = try await Self.start(apiPort: apiPort, controlPort: controlPort, simulator: simulator, group: group)
        onListening(listeners.api.baseURL, listeners.control.baseURL)
        try? await gracefulShutdown()
        await listeners.api.close()
        await listeners.control.close()
        simulator.shutdown()
    }

    /// Binds both listeners (tests use this directly).
    public static func start(
        apiPort: Int, controlPort: Int, simulator: Simulator, group: any EventLoopGroup
    ) async throws -> (api: SimulatorHTTPServer, control: SimulatorHTTPServer) {
        let api = try await SimulatorHTTPServer.bind(port: apiPort, group: group) { simulator.handleAPI($0) }
        simulator.setAPIBase(api.baseURL)
        do {
            let control = try await SimulatorHTTPServer.bind(port: controlPort, group: group) { simulator.handleControl($0) }
            return (api, control)
        } catch {
            await api.close()
            throw error
        }
    }
}
