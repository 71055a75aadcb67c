import Logging
import ServiceLifecycle
import Synchronization
import Testing
import TrafficPolice

#if canImport(Glibc)
import Glibc
#endif

/// `SystemdNotifierService` against a real datagram socket named by NOTIFY_SOCKET (libsystemd's
/// sd_notify reads it from the environment, so these run one at a time).
@Suite("SystemdNotifierService", .serialized, .timeLimit(.minutes(1)))
struct NotifyServiceTests {
    @Test func readyOnlyAfterTheSignalStatusThenStoppingOnShutdown() async throws {
        let capture = try DatagramCapture(path: temporaryNotifySocketPath("notify"))
        defer { capture.close() }
        try await withProcessEnvironment(["NOTIFY_SOCKET": capture.path]) {
            let readiness = ReadinessSignal()
            let service = SystemdNotifierService(
                configuration: .init(watchdogInterval: nil, statusInterval: .milliseconds(100)),
                readiness: readiness, status: { "mode=open\nqueue=3" }, logger: Logger(label: "test"))
            let group = ServiceGroup(
                configuration: .init(services: [.init(service: service)], logger: Logger(label: "test")))
            let running = Task { try await group.run() }

            // Nothing before readiness (no watchdog configured, no status before READY).
            #expect(try await capture.next(timeout: .milliseconds(400)) == nil)
            readiness.signal()
            #expect(try await capture.next() == "READY=1")
            #expect(try await capture.next() == "STATUS=mode=open queue=3")
            #expect(try await capture.next() == "STATUS=mode=open queue=3")  // refreshed

            await group.triggerGracefulShutdown()
            var last: String?
            while let text = try await capture.next() {
                last = text
                if text == "STOPPING=1" { break }
            }
            #expect(last == "STOPPING=1")
            try await running.value
        }
    }

    @Test func stoppingEvenWhenShutDownBeforeReady() async throws {
        let capture = try DatagramCapture(path: temporaryNotifySocketPath("notify"))
        defer { capture.close() }
        try await withProcessEnvironment(["NOTIFY_SOCKET": capture.path]) {
            let service = SystemdNotifierService(
                configuration: .init(watchdogInterval: nil), readiness: ReadinessSignal(), status: { "x" },
                logger: Logger(label: "test"))
            let group = ServiceGroup(
                configuration: .init(services: [.init(service: service)], logger: Logger(label: "test")))
            let running = Task { try await group.run() }
            try await Task.sleep(for: .milliseconds(100))
            await group.triggerGracefulShutdown()
            #expect(try await capture.next() == "STOPPING=1")
            try await running.value
        }
    }

    @Test func watchdogPingsStopWhileAProbeHangsAndResumeWhenItAnswers() async throws {
        let capture = try DatagramCapture(path: temporaryNotifySocketPath("watchdog"))
        defer { capture.close() }
        try await withProcessEnvironment(["NOTIFY_SOCKET": capture.path]) {
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
            #expect(!early.contains("READY=1"))
            #expect(early.contains("WATCHDOG=1"))

            readiness.signal()
            let healthy = try await capture.collect(for: .milliseconds(900))
            #expect(healthy.contains("READY=1"))
            #expect(healthy.filter { $0 == "WATCHDOG=1" }.count >= 2, "\(healthy)")

            gate.hang()
            _ = try await capture.collect(for: .milliseconds(500))  // the round already answered may still ping
            let hung = try await capture.collect(for: .milliseconds(900))
            #expect(!hung.contains("WATCHDOG=1"), "\(hung)")

            gate.release()
            let resumed = try await capture.collect(for: .milliseconds(1200))
            #expect(resumed.filter { $0 == "WATCHDOG=1" }.count >= 2, "\(resumed)")

            await group.triggerGracefulShutdown()
            try await running.value
            let rest = try await capture.collect(for: .milliseconds(200))
            #expect(rest.last == "STOPPING=1")
        }
    }

    @Test func defaultWatchdogIntervalComesFromSystemd() async {
        await withProcessEnvironment(["WATCHDOG_USEC": "3000000", "WATCHDOG_PID": String(getpid())]) {
            #expect(SystemdNotifierService.Configuration().watchdogInterval == .seconds(3))
        }
        await withProcessEnvironment(["WATCHDOG_USEC": nil, "WATCHDOG_PID": nil]) {
            #expect(SystemdNotifierService.Configuration().watchdogInterval == nil)
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
