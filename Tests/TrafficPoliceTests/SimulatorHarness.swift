import Foundation
import NIOPosix
import PlatformSimulator

/// The platform simulator started in-process on 127.0.0.1 (port 0): its API over real sockets (what
/// the clients call), its control API called directly.
final class SimulatorHarness: Sendable {
    let group: MultiThreadedEventLoopGroup
    let simulator: Simulator
    let api: SimulatorHTTPServer
    let control: SimulatorHTTPServer

    init(seed: UInt64 = 7) async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        simulator = Simulator(seed: seed, group: group)
        (api, control) = try await PlatformSimulatorService.start(
            apiPort: 0, controlPort: 0, simulator: simulator, group: group)
    }

    var eventbriteBase: String { api.baseURL + "/eventbrite/v3" }
    var lumaBase: String { api.baseURL + "/luma" }
    var meetupBase: String { api.baseURL + "/meetup/gql-ext" }

    /// Calls the control API; returns the status and the decoded JSON body.
    @discardableResult
    func control(_ method: String, _ path: String, _ body: [String: Any]? = nil) throws -> (status: Int, json: Any?) {
        let bytes = try body.map { Array(try JSONSerialization.data(withJSONObject: $0)) } ?? []
        let response = simulator.handleControl(
            SimRequest(method: method, uri: path, headers: [("Content-Type", "application/json")], body: bytes))
        let json = response.body.isEmpty ? nil : try? JSONSerialization.jsonObject(with: Data(response.body))
        return (response.status, json)
    }

    func stop() async {
        await api.close()
        await control.close()
        simulator.shutdown()
        try? await group.shutdownGracefully()
    }

    static func with<T>(_ body: (SimulatorHarness) async throws -> T) async throws -> T {
        let harness = try await SimulatorHarness()
        do {
            let result = try await body(harness)
            await harness.stop()
            return result
        } catch {
            await harness.stop()
            throw error
        }
    }
}
