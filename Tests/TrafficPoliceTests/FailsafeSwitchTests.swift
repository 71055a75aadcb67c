import Logging
import PostgresBridge
import RedisBridge
import ServiceLifecycle
import Testing
import TrafficPolice
import TrafficPoliceCore

/// The operator's fail-safe switch in the ledger and the watch that applies it to a real
/// RedisWatchdog, each on a database of its own (the switch is shared by every daemon using a ledger).
@Suite struct FailsafeSwitchTests {
    @Test func theSwitchRoundTrips() async throws {
        try await LedgerCapacityTests.withFreshDatabase { ledger in
            try await ledger.migrate()
            let initial = try await ledger.failsafeSwitch()
            #expect(initial == FailsafeSwitch(on: false))

            let on = try await ledger.setFailsafeSwitch(on: true, by: "ana", reason: "Redis maintenance")
            #expect(on.on && on.changedBy == "ana" && on.reason == "Redis maintenance")
            let changedAt = try #require(on.changedAt)
            #expect(changedAt.hasSuffix("Z") && changedAt.contains("T"))
            #expect(try await ledger.failsafeSwitch() == on)
            #expect(try await ledger.failsafeOverview().failsafe)
            #expect(try await ledger.failsafeOverview().reason?.contains("ana") == true)

            let off = try await ledger.setFailsafeSwitch(on: false, by: "bo", reason: nil)
            #expect(!off.on && off.changedBy == "bo" && off.reason == nil)
            #expect(try await ledger.failsafeSwitch() == off)
            #expect(try await ledger.failsafeOverview().failsafe == false)
        }
    }

    @Test func instanceRowsAppearMoveAndDisappear() async throws {
        try await LedgerCapacityTests.withFreshDatabase { ledger in
            try await ledger.migrate()
            var report = DaemonInstanceReport(id: "a", hostname: "h1", pid: 42, health: RedisHealth())
            try await ledger.reportInstance(report)
            let first = try #require(try await ledger.instances(seenWithin: .seconds(10)).first)
            #expect(first.id == "a" && first.state == "healthy" && !first.failsafe && first.pid == 42)
            #expect(first.status == "Redis healthy")
            let since = try #require(first.stateSince)
            #expect((first.ageMs ?? -1) >= 0)

            // The same state again keeps its `since`; another state moves it.
            try await Task.sleep(for: .milliseconds(20))
            try await ledger.reportInstance(report)
            #expect(try await ledger.instances(seenWithin: .seconds(10)).first?.stateSince == since)
            var health = RedisHealth()
            _ = health.setManual(true, at: 0)
            report = DaemonInstanceReport(id: "a", hostname: "h1", pid: 42, health: health)
            try await Task.sleep(for: .milliseconds(20))
            try await ledger.reportInstance(report)
            let moved = try #require(try await ledger.instances(seenWithin: .seconds(10)).first)
            #expect(moved.state == "failsafe" && moved.failsafe && moved.stateSince != since)
            #expect(moved.startedAt == first.startedAt)
            let overview = try await ledger.failsafeOverview()
            #expect(overview.failsafe && !overview.failsafeSwitch.on)
            #expect(overview.reason?.contains("h1") == true)

            // A row not updated within the window does not count.
            try await Task.sleep(for: .milliseconds(100))
            #expect(try await ledger.instances(seenWithin: .milliseconds(50)).isEmpty)
            #expect(try await ledger.failsafeOverview(seenWithin: .milliseconds(50)).failsafe == false)

            try await ledger.removeInstance(id: "a")
            #expect(try await ledger.instances(seenWithin: .seconds(10)).isEmpty)
        }
    }

    @Test func theWatchAppliesTheSwitchAndReportsTheInstance() async throws {
        try await LedgerCapacityTests.withFreshDatabase { ledger in
            try await ledger.migrate()
            let watchdog = RedisWatchdog(redis: try RedisConfiguration(url: try TestServers.redisURL()))
            let log = LogCapture()
            let watch = FailsafeSwitchWatch(
                ledger: ledger, watchdog: watchdog, instanceID: "watch-test", configuration: Self.fast,
                logger: Logger(label: "test") { _ in log })
            try await ServiceTesting.whileRunning([watchdog, watch], stopWithin: .seconds(3)) {
                #expect(try await Self.eventually { try await Self.row(ledger, "watch-test")?.state == "healthy" })
                #expect(!watchdog.health.manual)

                try await ledger.setFailsafeSwitch(on: true, by: "ana", reason: "drill")
                // Within a couple of intervals (200 ms each), with room for a loaded machine.
                #expect(try await Self.eventually(timeout: .seconds(2)) { watchdog.health.manual })
                #expect(watchdog.isFailsafe)
                let row = try await Self.eventually { try await Self.row(ledger, "watch-test")?.failsafe == true }
                #expect(row)
                #expect(try await Self.row(ledger, "watch-test")?.state == "failsafe")

                try await ledger.setFailsafeSwitch(on: false, by: "ana", reason: nil)
                #expect(try await Self.eventually(timeout: .seconds(2)) { !watchdog.health.manual })
                // Leaving a manual fail-safe goes through a recovery (the spool drain completes it).
                let recovering = if case .recovering = watchdog.health.state { true } else { false }
                #expect(recovering)
                #expect(try await Self.eventually { try await Self.row(ledger, "watch-test")?.state == "recovering" })
            }
            let notices = log.entries.filter { $0.level == .notice }
            #expect(notices.map(\.message) == ["fail-safe turned on by ana", "fail-safe turned off by ana"])
            #expect(notices.first?.fields["REASON"] == "drill" && notices.first?.fields["CHANGED_BY"] == "ana")
            #expect(!log.entries.contains { $0.level >= .warning }, "\(log.entries.map(\.message))")
            #expect(try await Self.row(ledger, "watch-test") == nil, "the row is removed on graceful shutdown")
        }
    }

    @Test func aDaemonStartedLaterFollowsASwitchAlreadyOn() async throws {
        try await LedgerCapacityTests.withFreshDatabase { ledger in
            try await ledger.migrate()
            try await ledger.setFailsafeSwitch(on: true, by: "ana", reason: nil)
            let watchdog = RedisWatchdog(redis: try RedisConfiguration(url: try TestServers.redisURL()))
            let watch = FailsafeSwitchWatch(
                ledger: ledger, watchdog: watchdog, instanceID: "late", configuration: Self.fast,
                logger: Logger(label: "test"))
            try await ServiceTesting.whileRunning([watchdog, watch], stopWithin: .seconds(3)) { () async throws in
                #expect(try await Self.eventually(timeout: .seconds(2)) { watchdog.health.manual && watchdog.isFailsafe })
                #expect(try await Self.eventually { try await Self.row(ledger, "late")?.failsafe == true })
            }
        }
    }

    @Test func anUnreachableLedgerLeavesTheManualFailsafeAsItIs() async throws {
        let dead = Ledger(
            postgres: PostgresClient(
                configuration: PostgresConfiguration(
                    connectionString: "postgresql://postgres@127.0.0.1:9/none", poolSize: 1,
                    connectTimeout: .milliseconds(200))))
        let watchdog = RedisWatchdog(redis: try RedisConfiguration(url: try TestServers.redisURL()))
        let log = LogCapture()
        let watch = FailsafeSwitchWatch(
            ledger: dead, watchdog: watchdog, instanceID: "dead-ledger", configuration: Self.fast,
            logger: Logger(label: "test") { _ in log })
        try await ServiceTesting.whileRunning([watchdog, watch], stopWithin: .seconds(3)) {
            try await Task.sleep(for: .milliseconds(300))
            #expect(watchdog.setManual(true)?.action == .enterFailsafe(.manual))
            // Several failed reads of the switch later, still on.
            try await Task.sleep(for: .milliseconds(1200))
            #expect(watchdog.health.manual && watchdog.isFailsafe)
            #expect(watchdog.setManual(false)?.action != nil)
            try await Task.sleep(for: .milliseconds(1200))
            #expect(!watchdog.health.manual)
            // One warning for the whole outage, however many reads and reports failed.
            let warnings = log.entries.filter { $0.level == .warning }
            #expect(warnings.count == 1, "\(warnings.map(\.message))")
            #expect(warnings.first?.message.contains("PostgreSQL unreachable") == true)
        }
        await dead.postgres.shutdown()
    }

    static let fast: FailsafeSwitchWatch.Configuration = {
        var configuration = FailsafeSwitchWatch.Configuration()
        configuration.interval = .milliseconds(200)
        configuration.reportInterval = .milliseconds(400)
        configuration.healthPollInterval = .milliseconds(50)
        return configuration
    }()

    static func row(_ ledger: Ledger, _ id: String) async throws -> DaemonInstanceReport? {
        try await ledger.instances(seenWithin: .seconds(10)).first { $0.id == id }
    }

    static func eventually(timeout: Duration = .seconds(5), _ condition: () async throws -> Bool) async throws -> Bool {
        try await QueueTesting.eventually(timeout: timeout, condition)
    }
}
