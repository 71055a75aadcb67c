import ArgumentParser
import Foundation
import Logging
import TrafficPolice

/// `traffic-police serve`: the daemon (systemd `Type=notify`).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the daemon: webhook intake, the durable queue and its workers, the admin API.",
        discussion: """
            Meant to run under systemd (traffic-police.service, Type=notify): READY=1 once the sockets
            are bound and Redis and PostgreSQL answer, STATUS= with the mode and queue depth, WATCHDOG=1
            while every part answers, STOPPING=1 on SIGTERM. Logs go to journald under systemd, else to
            stderr. Platform credentials come from $CREDENTIALS_DIRECTORY (LoadCredential=).

            Exit codes: 0 stopped by SIGTERM/SIGINT; 69 a dependency unreachable (Redis or
            PostgreSQL did not answer within [startup] timeout_ms, or the ledger has no schema);
            78 bad configuration; 70 an internal error (a bug: report it with the log).
            """)

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let configuration: TrafficPoliceConfiguration
        let credentials: Credentials
        do {
            configuration = try TrafficPoliceConfiguration.load(path: connection.config, environment: environment)
            credentials = try Credentials.load(environment: environment)
        } catch {
            throw CommandRuntime.fail(error)
        }
        LoggingBootstrap.bootstrap(level: configuration.log.level)
        let logger = Logger(label: "traffic-police")
        do {
            try await TrafficPoliceDaemon(
                configuration: configuration, credentials: credentials, environment: environment, logger: logger
            ).run()
        } catch {
            // 69 when Redis or PostgreSQL is unreachable, 78 for bad configuration, 70 for the rest.
            let (code, message) = CommandRuntime.classify(error)
            logger.critical("stopping: \(message)", metadata: ["EXIT_STATUS": "\(code)"])
            throw ExitCode(code)
        }
    }
}
