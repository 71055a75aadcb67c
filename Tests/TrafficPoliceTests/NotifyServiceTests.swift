import Logging
import ServiceLifecycle
import Synchronization
import Testing
import TrafficPolice

#if canImport(Glibc)
import Glibc
#endif

/// `SystemdNotifierService` against a real datagram socket named by NOTIFY_SOCKET. libsystemd's
/// sd_notify reads it from the process environment, which tests elsewhere in this shared test
/// process change concurrently (SystemdBridgeTests), so each scenario runs in a child process
/// (an exit test) and reports a failed check on stdout with a failing exit status.
@Suite("SystemdNotifierService", .timeLimit(.minutes(1)))
struct NotifyServiceTests {
    @Test func readyOnlyAfterTheSignalStatusThenStoppingOnShutdown() async {
        let result = await #expect(processExitsWith: .success, observing: [\.standardOutputContent]) {
            await NotifyScenarios.run(NotifyScenarios.readyStatusStopping)
        }
        print(result.map { String(decoding: $0.standardOutputContent, as: UTF8.self) } ?? "")
    }

    @Test func stoppingEvenWhenShutDownBeforeReady() async {
        let result = await #expect(processExitsWith: .success, observing: [\.standardOutputContent]) {
            await NotifyScenarios.run(NotifyScenarios.stoppingBeforeReady)
        }
        print(result.map { String(decoding: $0.standardOutputContent, as: UTF8.self) } ?? "")
    }

    @Test func watchdogPingsStopWhileAProbeHangsAndResumeWhenItAnswers() async {
        let result = await #expect(processExitsWith: .success, observing: [\.standardOutputContent]) {
            await NotifyScenarios.run(NotifyScenarios.watchdogFollowsProbes)
        }
        print(result.map { String(decoding: $0.standardOutputContent, as: UTF8.self) } ?? "")
    }

    @Test func defaultWatchdogIntervalComesFromSystemd() async {
        await #expect(processExitsWith: .success) {
            setenv("WATCHDOG_USEC", "3000000", 1)
            setenv("WATCHDOG_PID", String(getpid()), 1)
            guard SystemdNotifierService.Configuration().watchdogInterval == .seconds(3) else { exit(1) }
            unsetenv("WATCHDOG_USEC")
            guard SystemdNotifierService.Configuration().watchdogInterval == nil else { exit(2) }
            exit(0)
        }
    }

    @Test func readinessWaitEndsOnSignalOrCancellation() async {
        let readiness = ReadinessSignal()
        let waiter = Task { await readiness.wait() }
        readiness.signal()
        await waiter.value
        #expect(readiness.isReady)
        await readiness.wait()  // already ready: returns at once

        let other = ReadinessSignal()
        let cancelled = Task { await other.wait() }
        cancelled.cancel()
        await cancelled.value
        #expect(!other.isReady)
    }
}

/// A failed check inside a child scenario.
private struct ScenarioFailure: Error, CustomStringConvertible {
    var description: String
}

private func check(_ condition: Bool, _ message: @autoclosure () -> String, line: Int = #line) throws {
    if !condition { throw ScenarioFailure(description: "line \(line): \(message())") }
}

/// The scenarios, run in child processes with NOTIFY_SOCKET set there.
private enum NotifyScenarios {
    static func run(_ scenario: @Sendable (DatagramCapture) async throws -> Void) async -> Never {
        do {
            let capture = try DatagramCapture(path: temporaryNotifySocketPath("notify"))
            setenv("NOTIFY_SOCKET", capture.path, 1)
            try await scenario(capture)
            capture.close()
            exit(0)
        } catch {
            print("FAILED: \(error)")
            exit(1)
        }
    }

    static func readyStatusStopping(_ capture: DatagramCapture) async throws {
        do {
            let readiness = ReadinessSignal()
            let service = SystemdNotifierService(
                configuration: .init(watchdogInterval: nil, statusInterval: .milliseconds(100)),
                readiness: readiness, status: { "mode=open\nqueue=3" }, logger: Logger(label: "test"))
            let group = ServiceGroup(
                configuration: .init(services: [.init(service: service)], logger: Logger(label: "test")))
            let running = Task { try await group.run() }

            // Nothing before readiness (no watchdog configured, no status before READY).
            try check((try await capture.next(timeout: .milliseconds(400))) == nil, "a datagram before readiness")
            readiness.signal()
            try check((try await capture.next()) == "READY=1", "try await capture.next() == \"READY=1\"")
            try check((try await capture.next()) == "STATUS=mode=open queue=3", "try await capture.next() == \"STATUS=mode=open queue=3\"")
            try check((try await capture.next()) == "STATUS=mode=open queue=3", "try await capture.next() == \"STATUS=mode=open queue=3\"")  // refreshed

            await group.triggerGracefulShutdown()
            var last: String?
            while let text = try await capture.next() {
                last = text
                if text == "STOPPING=1" { break }
            }
            try check(last == "STOPPING=1", "last == \"STOPPING=1\"")
            try await running.value
        }
    }

    static func stoppingBeforeReady(_ capture: DatagramCapture) async throws {
        do {
            let service = SystemdNotifierService(
                configuration: .init(watchdogInterval: nil), readiness: ReadinessSignal(), status: { "x" },
                logger: Logger(label: "test"))
            let group = ServiceGroup(
                configuration: .init(services: [.init(service: service)], logger: Logger(label: "test")))
            let running = Task { try await group.run() }
            try await Task.sleep(for: .milliseconds(100))
            await group.triggerGracefulShutdown()
            try check((try await capture.next()) == "STOPPING=1", "try await capture.next() == \"STOPPING=1\"")
            try await running.value
        }
    }

    static func watchdogFollowsProbes(_ capture: DatagramCapture) async throws {
        do {
            let readiness = ReadinessSignal()
            let gate = ProbeGate()
            let service = SystemdNotifierService(
                configuration: .init(watchdogInterval: .milliseconds(400), statusInterval: .seconds(60)),
                readiness: readiness, status: { "mode=open" },
                probes: [LivenessProbe(name: "queue") { await gate.pass() }, LivenessProbe(name: "idle") {}],
                logger: Logger(label: "test"))
            let group = ServiceGroup(
                configuration: .init(services: [.init(service: service)], logger: Logger(label: "test")))
            let running = Task { try await group.run() }

            // Before readiness: keep-alive pings only.
            let early = try await capture.collect(for: .milliseconds(500))
            try check(!early.contains("READY=1"), "!early.contains(\"READY=1\")")
            try check(early.contains("WATCHDOG=1"), "early.contains(\"WATCHDOG=1\")")

            readiness.signal()
            let healthy = try await capture.collect(for: .milliseconds(900))
            try check(healthy.contains("READY=1"), "healthy.contains(\"READY=1\")")
            try check(healthy.filter { $0 == "WATCHDOG=1" }.count >= 2, "\(healthy)")

            gate.hang()
            _ = try await capture.collect(for: .milliseconds(500))  // the round already answered may still ping
            let hung = try await capture.collect(for: .milliseconds(900))
            try check(!hung.contains("WATCHDOG=1"), "\(hung)")

            gate.release()
            let resumed = try await capture.collect(for: .milliseconds(1200))
            try check(resumed.filter { $0 == "WATCHDOG=1" }.count >= 2, "\(resumed)")

            await group.triggerGracefulShutdown()
            try await running.value
            let rest = try await capture.collect(for: .milliseconds(200))
            try check(rest.last == "STOPPING=1", "rest.last == \"STOPPING=1\"")
        }
    }
}

/// A probe target that can be made to hang (like an actor stuck in a long call) and released.
private final class ProbeGate: Sendable {
    private struct State {
        var hanging = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    func hang() { state.withLock { $0.hanging = true } }

    func release() {
        let waiters = state.withLock { state in
            state.hanging = false
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
    }

    func pass() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resume = state.withLock { state in
                if state.hanging { state.waiters.append(continuation) }
                return !state.hanging
            }
            if resume { continuation.resume() }
        }
    }
}
