import PostgresBridge
import RedisBridge
import TrafficPolice
import TrafficPoliceCore

/// What `traffic-police status` gathers: the daemons and the switch from the ledger, the queue from
/// Redis, every event. A part is nil when its store could not be read; the rest is still shown.
struct StatusReport: Encodable {
    /// The switch and the instances seen within ``FailsafeOverview/freshness``; nil without PostgreSQL.
    var overview: FailsafeOverview?
    /// Nil when Redis could not be read.
    var queue: QueueStats?
    /// Every event (mode `failsafe` while sales are closed everywhere); nil without PostgreSQL.
    var events: [EventSnapshot]?
    /// Why Redis could not be read (one line); nil when it could.
    var redisError: String?
    /// Why PostgreSQL could not be read (one line); nil when it could.
    var postgresError: String?

    /// 0 when every part could be read, 69 when Redis or PostgreSQL could not.
    var exitCode: Int32 { redisError == nil && postgresError == nil ? 0 : ExitStatus.unavailable }

    /// Reads every part it can through `runtime`, recording what could not be read.
    static func gather(_ runtime: CommandRuntime) async throws -> StatusReport {
        var report = StatusReport()
        do {
            report.overview = try await runtime.ledger.failsafeOverview()
        } catch {
            try report.record(error)
        }
        do {
            report.queue = try await QueueCommand.withQueue(on: runtime) { try await $0.stats() }
        } catch {
            try report.record(error)
        }
        guard report.postgresError == nil else { return report }
        do {
            let snapshots = try await runtime.desk.list(allowLedgerFallback: true)
            report.events = CommandRuntime.marking(snapshots, failsafe: report.overview?.failsafe ?? false)
            if report.redisError == nil, snapshots.contains(where: { $0.source != "redis" }) {
                report.redisError = "Redis is unreachable: event figures are the ledger's"
            }
        } catch {
            try report.record(error)
        }
        return report
    }

    /// Files a dependency's error under Redis or PostgreSQL; anything else is rethrown.
    private mutating func record(_ error: any Error) throws {
        let message = CommandRuntime.classify(error).1
        switch error {
        case is PostgresError: postgresError = postgresError ?? message
        case is RedisError, is DependencyError, ReservationError.redis: redisError = redisError ?? message
        default: throw error
        }
    }

    enum CodingKeys: String, CodingKey {
        case daemons, failsafe, serving, queue, events, errors
        case failsafeSwitch = "failsafe_switch"
        case freshnessSeconds = "freshness_seconds"
    }

    private struct Errors: Encodable {
        var redis: String?
        var postgres: String?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(redis, forKey: .redis)
            try container.encode(postgres, forKey: .postgres)
        }

        enum CodingKeys: String, CodingKey { case redis, postgres }
    }

    /// Every key always present, `null` for what could not be read (scripts read a fixed shape).
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(overview?.instances, forKey: .daemons)
        try container.encode(overview.map { !$0.instances.isEmpty }, forKey: .serving)
        try container.encode(FailsafeOverview.freshness.components.seconds, forKey: .freshnessSeconds)
        try container.encode(overview?.failsafeSwitch, forKey: .failsafeSwitch)
        try container.encode(overview?.failsafe, forKey: .failsafe)
        try container.encode(queue, forKey: .queue)
        try container.encode(events, forKey: .events)
        try container.encode(Errors(redis: redisError, postgres: postgresError), forKey: .errors)
    }

    /// The plain-text form: a headline on whether sales flow, then each part.
    var lines: [String] {
        var lines = [headline]
        if let overview {
            lines.append(FailsafeText.switchLine(overview.failsafeSwitch))
            lines += FailsafeText.instanceLines(overview.instances)
        } else {
            lines.append("fail-safe switch and daemon instances: unknown (PostgreSQL unreachable)")
        }
        if let queue {
            lines.append(
                "queue: depth \(queue.depth), in flight \(queue.inFlight), retrying \(queue.delayed), "
                    + "dead letters \(queue.deadLetters), awaiting resolution \(queue.awaitingResolution)")
        } else {
            lines.append("queue: unknown (Redis unreachable)")
        }
        lines += eventLines
        return lines
    }

    private var headline: String {
        guard let overview else { return "sales: UNKNOWN (PostgreSQL unreachable)" }
        let seconds = FailsafeOverview.freshness.components.seconds
        if overview.instances.isEmpty {
            return "sales: NOTHING IS SERVING (no daemon instance reported within the last \(seconds) s)"
        }
        if let reason = overview.reason { return "sales: CLOSED (\(reason))" }
        let count = overview.instances.count
        return "sales: open (\(count) daemon instance\(count == 1 ? "" : "s") serving)"
    }

    private var eventLines: [String] {
        guard let events else { return ["events: unknown (PostgreSQL unreachable)"] }
        guard !events.isEmpty else { return ["events: none"] }
        let fallback = events.contains { $0.source != "redis" } ? ", ledger figures: Redis unreachable" : ""
        let rows = [["id", "mode", "sold/capacity", "free"]]
            + events.map { [$0.id, Self.modeLabel($0.mode), "\($0.sold)/\($0.capacity)", String($0.freeStock)] }
        let widths = (0..<4).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return ["events (\(events.count)\(fallback)):"]
            + rows.map { row in
                "  " + zip(row, widths).map { EventTable.pad($0, $1 + 2) }.joined().trimmingTrailingSpaces()
            }
    }

    /// `open`, `closed`, and the two that close platforms in capitals: `RED ALERT`, `FAIL-SAFE`.
    static func modeLabel(_ mode: EventMode) -> String {
        switch mode {
        case .open: "open"
        case .closed: "closed"
        case .redAlert: "RED ALERT"
        case .failsafe: "FAIL-SAFE"
        }
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
