import ArgumentParser
import Foundation
import Logging
import NIOPosix
import PlatformSimulator
import ServiceLifecycle

/// `platform-sim`: Eventbrite, Luma and Meetup stand-ins on loopback for tests, the demo and benchmarks.
@main
struct PlatformSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "platform-sim",
        abstract: "Simulates the Eventbrite, Luma and Meetup APIs on 127.0.0.1.",
        subcommands: [Serve.self])
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the API and control listeners; prints {\"api\":URL,\"control\":URL} once bound.")

    @Option(help: "Port of the platform API listener on 127.0.0.1 (0 = ephemeral).")
    var apiPort = 0

    @Option(help: "Port of the control API listener on 127.0.0.1 (0 = ephemeral).")
    var controlPort = 0

    @Option(help: "A JSON file with the same shape as POST /control/config.")
    var config: String?

    @Option(help: "Seed of every random choice (webhook drops, duplicates, delays, demand).")
    var seed: UInt64 = 1

    func run() async throws {
        var settings = SimulatorConfiguration()
        if let config {
            guard let data = FileManager.default.contents(atPath: config), let json = JSON.parse(Array(data)) else {
                throw ValidationError("--config \(config): not a readable JSON file")
            }
            do {
                try settings.apply(json)
            } catch {
                throw ValidationError("--config \(config): \(error)")
            }
        }
        var logger = Logger(label: "platform-sim")
        logger.logLevel = .warning
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let simulator = Simulator(configuration: settings, seed: seed, group: group)
        let service = PlatformSimulatorService(
            apiPort: apiPort, controlPort: controlPort, simulator: simulator, group: group
        ) { api, control in
            let line = JSON.object(["api": .string(api), "control": .string(control)]).text + "\n"
            FileHandle.standardOutput.write(Data(line.utf8))
        }
        let services = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: service)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await services.run()
        try await group.shutdownGracefully()
    }
}
