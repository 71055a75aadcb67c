import Foundation
import Logging
import ServiceLifecycle
import TrafficPoliceCore

/// Follows the operator's fail-safe switch in the ledger and reports this instance there (G5): a
/// swift-service-lifecycle `Service`.
///
/// It reads the switch at start and every ``Configuration/interval`` and turns the watchdog's
/// manual fail-safe on or off when the switch differs from what it last applied, so a fail-safe
/// turned on by hand holds on every instance (and on one started later) until turned off by hand.
/// It rewrites this instance's `daemon_instances` row every ``Configuration/reportInterval``, and
/// at once when the watchdog's state or status changed (looked at every
/// ``Configuration/healthPollInterval``; the watchdog's transitions stream is left to its one
/// consumer). While PostgreSQL cannot be read it logs one warning, keeps trying and leaves the manual
/// fail-safe as it is. On graceful shutdown it removes its row.
public struct FailsafeSwitchWatch: Service {
    public struct Configuration: Sendable {
        /// How often the switch is read. Default 1 s.
        public var interval: Duration = .seconds(1)
        /// How often this instance's row is rewritten while nothing changes. Default 2 s.
        public var reportInterval: Duration = .seconds(2)
        /// How often the watchdog's state is looked at for a change to report. Default 250 ms.
        public var healthPollInterval: Duration = .milliseconds(250)
        /// How long the removal of the row may take on shutdown. Default 2 s.
        public var removalTimeout: Duration = .seconds(2)

        public init() {}
    }

    let ledger: Ledger
    let watchdog: RedisWatchdog
    let instanceID: String
    let configuration: Configuration
    let logger: Logger
    let hostname = ProcessInfo.processInfo.hostName
    let pid = Int(ProcessInfo.processInfo.processIdentifier)

    /// - Parameter instanceID: this daemon's id in `daemon_instances`, unique per process.
    public init(
        ledger: Ledger, watchdog: RedisWatchdog, instanceID: String, configuration: Configuration = .init(),
        logger: Logger
    ) {
        self.ledger = ledger
        self.watchdog = watchdog
        self.instanceID = instanceID
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            var state = LoopState(applied: watchdog.health.manual)
            while !Task.isCancelled {
                await tick(&state)
                try await Task.sleep(for: configuration.healthPollInterval)
            }
        }
        await removeRow()
    }

    /// What the loop remembers between ticks.
    struct LoopState {
        /// The manual state last given to the watchdog.
        var applied: Bool
        var nextRead = ContinuousClock.now
        var nextReport = ContinuousClock.now
        var reported: DaemonInstanceReport?
        /// Whether PostgreSQL failed since it last answered (its warning was logged).
        var outage = false
    }

    /// Reads the switch when due, and reports when due or when the watchdog moved.
    func tick(_ state: inout LoopState) async {
        let now = ContinuousClock.now
        if now >= state.nextRead {
            state.nextRead = now + configuration.interval
            do {
                follow(try await ledger.failsafeSwitch(), &state)
                answered(&state)
            } catch {
                failed(error, reading: "the fail-safe switch", &state)
            }
        }
        let report = DaemonInstanceReport(id: instanceID, hostname: hostname, pid: pid, health: watchdog.health)
        guard report != state.reported || now >= state.nextReport else { return }
        state.reported = report
        state.nextReport = now + configuration.reportInterval
        do {
            try await ledger.reportInstance(report)
            answered(&state)
        } catch {
            failed(error, reading: "this instance's report", &state)
        }
    }

    private func follow(_ failsafeSwitch: FailsafeSwitch, _ state: inout LoopState) {
        guard failsafeSwitch.on != state.applied else { return }
        state.applied = failsafeSwitch.on
        watchdog.setManual(failsafeSwitch.on)
        let by = failsafeSwitch.changedBy ?? "unknown"
        logger.notice(
            "fail-safe turned \(failsafeSwitch.on ? "on" : "off") by \(by)",
            metadata: [
                "CHANGED_BY": "\(by)", "REASON": "\(failsafeSwitch.reason ?? "")",
                "CHANGED_AT": "\(failsafeSwitch.changedAt ?? "")", "INSTANCE_ID": "\(instanceID)",
                "STATUS": "\(watchdog.status)",
            ])
    }

    private func answered(_ state: inout LoopState) {
        guard state.outage else { return }
        state.outage = false
        logger.notice("PostgreSQL answers again: following the fail-safe switch", metadata: ["INSTANCE_ID": "\(instanceID)"])
    }

    private func failed(_ error: any Error, reading what: String, _ state: inout LoopState) {
        guard !state.outage else { return }
        state.outage = true
        logger.warning(
            "PostgreSQL unreachable (\(what)): the manual fail-safe stays \(watchdog.health.manual ? "on" : "off") until it answers",
            metadata: ["ERROR": "\(error)", "INSTANCE_ID": "\(instanceID)"])
    }

    /// Removes this instance's row, waiting at most ``Configuration/removalTimeout`` (run outside the
    /// caller's task, so that a cancelled shutdown still tries).
    private func removeRow() async {
        let (ledger, id) = (ledger, instanceID)
        let removal = Task { try await ledger.removeInstance(id: id) }
        let timer = Task { [timeout = configuration.removalTimeout] in
            try? await Task.sleep(for: timeout)
            removal.cancel()
        }
        let result = await removal.result
        timer.cancel()
        if case .failure(let error) = result {
            logger.warning(
                "could not remove this instance's report; it ages out", metadata: ["ERROR": "\(error)", "INSTANCE_ID": "\(id)"])
        }
    }
}
