import Foundation
import RedisBridge
import Testing
@testable import TrafficPolice
import TrafficPoliceCore

/// The watchdog against a private `redis-server`: SIGSTOP makes it hang, SIGCONT brings it back,
/// SIGKILL makes it refuse connections.
@Suite(.serialized) struct RedisWatchdogTests {
    @Test func ownConnectionUsesThePingTimeout() {
        var configuration = RedisWatchdog.Configuration()
        configuration.health.pingTimeoutMs = 150
        var base = RedisConfiguration()
        base.poolSize = 8
        let redis = configuration.redisConfiguration(from: base)
        #expect(redis.poolSize == 1)
        #expect(redis.connectTimeout == .milliseconds(150) && redis.commandTimeout == .milliseconds(150))
        #expect(redis.port == base.port && redis.host == base.host)
    }

    @Test func hungRedisTripsWithinOneSecondAndRecovers() async throws {
        let seen = Locked<[RedisHealth.Transition]>([])
        var collector: Task<Void, Never>?
        let killed = try await Self.withWatchdog { server, watchdog in
            collector = Task {
                for await transition in watchdog.transitions { seen.withLock { $0.append(transition) } }
            }
            return try await Self.hangAndRecover(server, watchdog, seen)
        }
        await collector?.value
        #expect(seen.value.last == killed)
    }

    /// SIGSTOP, SIGCONT, then SIGKILL; returns the last fail-safe transition.
    static func hangAndRecover(
        _ server: QueueRedisChild, _ watchdog: RedisWatchdog, _ seen: Locked<[RedisHealth.Transition]>
    ) async throws -> RedisHealth.Transition {
        let health = watchdog.configuration.health

        // Healthy: pings are answered and nothing happens.
        try await Task.sleep(for: .seconds(1))
        #expect(watchdog.health.state == .healthy)
        #expect(watchdog.health.consecutiveAnswers >= 2)
        #expect(!seen.value.contains { $0.to.isFailsafe })

        server.pause()
        let stoppedAt = watchdog.milliseconds()
        let trip = try await wait(for: seen, within: .seconds(5)) {
            if case .enterFailsafe = $0.action { true } else { false }
        }
        let firstMiss = try #require(trip.firstMissAt)
        // The first unanswered ping was sent `pingTimeout` before it was recorded as missed.
        let fromFirstPing = trip.at - (firstMiss - health.pingTimeoutMs)
        print(
            "watchdog: fail-safe \(trip.at - stoppedAt) ms after SIGSTOP, \(fromFirstPing) ms after the first"
                + " unanswered ping was sent (\(trip.at - firstMiss) ms after it was recorded missed); \(trip.action)")
        #expect(fromFirstPing <= 1000)
        #expect(trip.at - stoppedAt <= 1000 + health.pingIntervalMs)
        #expect(watchdog.isFailsafe)
        #expect(watchdog.status.hasPrefix("FAIL-SAFE"))
        #expect(seen.value.first?.action == .warn)

        server.resume()
        let begin = try await wait(for: seen, within: .seconds(5)) {
            if case .beginRecovery = $0.action { true } else { false }
        }
        guard case .beginRecovery(let attempt) = begin.action else { return begin }
        // Answers alone do not reopen sales.
        try await Task.sleep(for: .milliseconds(1500))
        #expect(watchdog.isFailsafe)
        #expect(watchdog.health.state == .recovering(since: begin.at, attempt: attempt, rebuilt: false))
        #expect(watchdog.recoveryCompleted(attempt: attempt)?.action == .leaveFailsafe)
        #expect(!watchdog.isFailsafe)

        // A dead server (connection refused) trips too.
        let before = seen.value.count
        server.stop()
        let killed = try await wait(for: seen, within: .seconds(5), after: before) {
            if case .enterFailsafe = $0.action { true } else { false }
        }
        print("watchdog: fail-safe \(killed.at - (killed.firstMissAt ?? 0)) ms after the first refused ping")
        return killed
    }

    /// A ping that never returns in time still counts as missed at every tick, and no second ping
    /// is sent while it hangs (independent of the bridge's own command timeout).
    @Test func aHangingPingIsRacedAndNotPiledUp() async throws {
        let hang = Locked(false)
        let started = Locked(0)
        let watchdog = RedisWatchdog(
            configuration: .init(), logger: nil,
            ping: {
                let hangs = hang.withLock { hangs in
                    started.withLock { $0 += 1 }
                    return hangs
                }
                if hangs { try? await Task.sleep(for: .milliseconds(1500)) }
                return true
            }, close: {})
        let running = Task { try await watchdog.run() }
        defer { running.cancel() }
        let seen = Locked<[RedisHealth.Transition]>([])
        let collector = Task {
            for await transition in watchdog.transitions { seen.withLock { $0.append(transition) } }
        }
        try await Task.sleep(for: .milliseconds(600))
        #expect(watchdog.health.state == .healthy)
        let before = started.value
        hang.withLock { $0 = true }
        let trip = try await Self.wait(for: seen, within: .seconds(3)) {
            if case .enterFailsafe = $0.action { true } else { false }
        }
        #expect(trip.action == .enterFailsafe(.missedPings(3)))
        #expect(started.value == before + 1)
        let firstMiss = try #require(trip.firstMissAt)
        #expect(trip.at - (firstMiss - watchdog.configuration.health.pingTimeoutMs) <= 1000)
        hang.withLock { $0 = false }
        // Once the hung ping returns, the next one is answered and recovery begins.
        _ = try await Self.wait(for: seen, within: .seconds(3)) {
            if case .beginRecovery = $0.action { true } else { false }
        }
        #expect(started.value >= before + 2)
        running.cancel()
        await collector.value
    }

    @Test func manualFailsafeHoldsWhileRedisAnswers() async throws {
        let (watchdog, attempt) = try await Self.withWatchdog { _, watchdog in
            try await (watchdog, Self.manualRound(watchdog))
        }
        guard let attempt else { return }
        var left: [RedisHealth.Transition] = []
        for await transition in watchdog.transitions { left.append(transition) }
        // (A ping slowed down by a loaded machine may add a warning; only fail-safe moves count here.)
        let moves = left.map(\.action).filter { $0 != .warn && $0 != .clearWarning }
        #expect(moves == [.enterFailsafe(.manual), .beginRecovery(attempt: attempt), .leaveFailsafe])
    }

    /// Manual on, Redis answering, manual off; returns the recovery's number.
    static func manualRound(_ watchdog: RedisWatchdog) async throws -> Int? {
        try await Task.sleep(for: .milliseconds(600))
        #expect(watchdog.setManual(true)?.action == .enterFailsafe(.manual))
        try await Task.sleep(for: .milliseconds(1200))
        let held = if case .failsafe(_, .manual) = watchdog.health.state { true } else { false }
        #expect(held)
        let off = try #require(watchdog.setManual(false))
        guard case .beginRecovery(let attempt) = off.action else {
            Issue.record("expected a recovery, got \(off.action)")
            return nil
        }
        #expect(watchdog.recoveryCompleted(attempt: attempt)?.action == .leaveFailsafe)
        return attempt
    }

    /// Runs `body` with a private redis-server and a running watchdog on it; afterwards the
    /// watchdog is stopped (its stream finished) and the server killed, whatever happens.
    static func withWatchdog<T>(_ body: (QueueRedisChild, RedisWatchdog) async throws -> T) async throws -> T {
        let server = try await QueueRedisChild()
        defer { server.stop() }
        let watchdog = RedisWatchdog(redis: server.configuration)
        let running = Task { try await watchdog.run() }
        let result: Result<T, any Error>
        do { result = .success(try await body(server, watchdog)) } catch { result = .failure(error) }
        server.resume()
        running.cancel()
        _ = try? await running.value
        return try result.get()
    }

    /// The first transition after index `after` that matches, waiting up to `limit`.
    static func wait(
        for seen: Locked<[RedisHealth.Transition]>, within limit: Duration, after: Int = 0,
        _ matches: (RedisHealth.Transition) -> Bool
    ) async throws -> RedisHealth.Transition {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let found = seen.value.dropFirst(after).first(where: matches) { return found }
            try await Task.sleep(for: .milliseconds(5))
        }
        let actions = seen.value.map { "\($0.action)" }
        throw QueueChildError("no matching transition within \(limit); seen: \(actions)")
    }
}
