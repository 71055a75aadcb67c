import ArgumentParser
import Foundation
import PostgresBridge
import RedisBridge
import TrafficPolice
import TrafficPoliceCore

/// What a command needs at run time: the configuration and the clients built from it,
/// and one place that turns every failure into one line on stderr and the documented exit code.
struct CommandRuntime {
    let configuration: TrafficPoliceConfiguration
    let redis: RedisClient
    let postgres: PostgresClient

    var ledger: Ledger { Ledger(postgres: postgres) }
    var desk: EventDesk { EventDesk(ledger: ledger, reservations: RedisReservations(redis: redis)) }

    /// Loads the configuration, builds the clients, runs `body`, and shuts the clients down.
    /// Any error is reported on stderr as one line and mapped to an exit code.
    static func run(
        _ options: ConnectionOptions, needsRedis: Bool = true, _ body: (CommandRuntime) async throws -> Void
    ) async throws {
        let configuration: TrafficPoliceConfiguration
        do {
            configuration = try TrafficPoliceConfiguration.load(path: options.config)
        } catch {
            throw fail(error)
        }
        var redisConfiguration = configuration.redis
        redisConfiguration.poolSize = 1
        var postgresConfiguration = configuration.postgres
        postgresConfiguration.poolSize = 1
        let runtime = CommandRuntime(
            configuration: configuration, redis: RedisClient(configuration: redisConfiguration),
            postgres: PostgresClient(configuration: postgresConfiguration))
        do {
            if needsRedis {
                do {
                    _ = try await runtime.redis.send("PING")
                } catch let error as RedisError {
                    throw DependencyError.redis(error)
                }
            }
            try await body(runtime)
            await runtime.shutdown()
        } catch {
            await runtime.shutdown()
            throw fail(error)
        }
    }

    /// `snapshots` with mode `failsafe` while the operator's switch is on or a daemon seen lately is
    /// in fail-safe (the event's own mode in Redis does not show a daemon's fail-safe).
    func withFailsafe(_ snapshots: [EventSnapshot]) async throws -> [EventSnapshot] {
        Self.marking(snapshots, failsafe: try await ledger.failsafeOverview().failsafe)
    }

    /// `snapshots` with mode `failsafe` when `failsafe` (the overview already read).
    static func marking(_ snapshots: [EventSnapshot], failsafe: Bool) -> [EventSnapshot] {
        guard failsafe else { return snapshots }
        return snapshots.map { snapshot in
            var snapshot = snapshot
            snapshot.mode = .failsafe
            return snapshot
        }
    }

    /// One snapshot with mode `failsafe` when sales are closed anywhere (see above).
    func withFailsafe(_ snapshot: EventSnapshot) async throws -> EventSnapshot {
        try await withFailsafe([snapshot]).first ?? snapshot
    }

    func shutdown() async {
        await redis.shutdown()
        await postgres.shutdown()
    }

    /// Prints `error` as one line and returns the exit code for it.
    static func fail(_ error: any Error) -> any Error {
        if error is ExitCode || error is CleanExit { return error }
        let (code, message) = classify(error)
        Output.error(message)
        return ExitCode(code)
    }

    static func classify(_ error: any Error) -> (Int32, String) {
        switch error {
        case let error as ConfigurationError:
            return (ExitStatus.config, error.description)
        case let error as DependencyError:
            return (ExitStatus.unavailable, error.description)
        case let error as StartupGate.StartupError:
            return (ExitStatus.unavailable, error.description)
        case let error as RedisError:
            return (ExitStatus.unavailable, "Redis: \(error)")
        case let error as ReservationError:
            if case .redis(let redisError) = error { return (ExitStatus.unavailable, "Redis: \(redisError)") }
            return (ExitStatus.unavailable, error.description)
        case let error as PostgresError:
            if error.sqlState == "42P01" {
                return (ExitStatus.unavailable, "the ledger has no schema yet: run `traffic-police migrate` (\(error.message))")
            }
            return (ExitStatus.unavailable, "PostgreSQL: \(error)")
        case let error as LedgerError:
            return (ExitStatus.refused, error.description)
        case let error as DomainError:
            return (ExitStatus.refused, error.description)
        case let error as PolicyRefusal:
            return (ExitStatus.refused, error.message)
        default:
            return (ExitStatus.software, "unexpected error: \(error)")
        }
    }
}

/// Exit codes of DESIGN.md section 6 (sysexits.h where they come from).
enum ExitStatus {
    static let refused: Int32 = 1
    static let usage: Int32 = 64
    static let software: Int32 = 70
    static let unavailable: Int32 = 69
    static let config: Int32 = 78
}

/// A dependency that did not answer.
enum DependencyError: Error, CustomStringConvertible {
    case redis(RedisError)

    var description: String {
        switch self {
        case .redis(let error):
            "Redis is unreachable: \(error)"
        }
    }
}

/// A request the policy refused (exit 1).
struct PolicyRefusal: Error {
    var message: String
    /// What could have been sold, when the stock was the reason.
    var available: Int? = nil
}

/// Writes to stdout and stderr by file descriptor (Glibc's `stdout` is not usable under strict concurrency).
enum Output {
    static func line(_ text: String) { write(1, text + "\n") }
    static func error(_ text: String) { write(2, "traffic-police: error: " + text + "\n") }
    static func warning(_ text: String) { write(2, "traffic-police: warning: " + text + "\n") }

    static func json(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        line(String(decoding: data, as: UTF8.self))
    }

    private static func write(_ fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { buffer in
                Foundation.write(fd, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
            }
            if written <= 0 { return }
            offset += written
        }
    }
}
