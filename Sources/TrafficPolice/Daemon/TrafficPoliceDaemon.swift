import CurlBridge
import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
import PostgresBridge
import RedisBridge
import ServiceLifecycle
import SystemdBridge
import TrafficPoliceCore

/// `traffic-police serve`: wires the parts of DESIGN.md section 4 into one `ServiceGroup`.
///
/// Services, in start order (graceful shutdown runs in reverse): the admin server, the queue
/// workers, webhook intake, the start-up gate (READY=1 once sockets are bound and Redis and
/// PostgreSQL answer) and the systemd notifier (STATUS=, WATCHDOG=1, STOPPING=1). On SIGTERM or
/// SIGINT the notifier says STOPPING=1, intake stops accepting and finishes what is in flight,
/// the workers finish their jobs, and the process exits 0.
public struct TrafficPoliceDaemon {
    public let configuration: TrafficPoliceConfiguration
    public let credentials: Credentials
    public let environment: [String: String]
    public let logger: Logger

    public init(
        configuration: TrafficPoliceConfiguration, credentials: Credentials, environment: [String: String],
        logger: Logger
    ) {
        self.configuration = configuration
        self.credentials = credentials
        self.environment = environment
        self.logger = logger
    }

    /// Runs until SIGTERM/SIGINT (returns) or a service fails (throws).
    public func run() async throws {
        let metrics = PrometheusExport()
        MetricsSystem.bootstrap(metrics.factory)
        credentials.availability.logWarnings(to: logger)

        let redis = RedisClient(configuration: configuration.redis)
        let postgres = PostgresClient(configuration: configuration.postgres)
        let desk = EventDesk(ledger: Ledger(postgres: postgres), reservations: RedisReservations(redis: redis))
        var queueConfiguration = DeliveryQueue.Configuration()
        queueConfiguration.retry = try RetrySchedule(maxAttempts: configuration.queue.maxAttempts)
        let queue = DeliveryQueue(redis: redis, configuration: queueConfiguration, logger: logger)
        let curl = CurlClient(configuration: .init(threads: 4))
        let throttler = try Throttler(
            redis: redis,
            budgets: Dictionary(uniqueKeysWithValues: Platform.allCases.map { ($0, configuration.platforms.budget($0)) }))
        let gateway = PlatformGateway(
            endpoints: PlatformGateway.endpoints(configuration.platforms, credentials: credentials), throttler: throttler,
            curl: curl, logger: logger.with(label: "platforms"))
        let eventbrite = try gateway.endpoints[.eventbrite].map { _ in
            EventbriteOrderDelivery(
                cache: EventbriteOrderCache(redis: redis),
                apiURLPolicy: try EventbriteAPIURLPolicy(baseURL: configuration.platforms.eventbrite.baseURL.absoluteString))
        }

        // G4/G5: the watchdog pings Redis on its own connection; while Redis cannot take a delivery
        // intake writes it to the local spool, and the drain puts it back into the queue.
        let watchdog = RedisWatchdog(redis: configuration.redis, logger: logger.with(label: "redis-watchdog"))
        let spool: DeliverySpool
        do {
            spool = try await DeliverySpool(configuration: .init(directory: configuration.spool.directory))
        } catch {
            logger.critical(
                "cannot open the spool ([spool] dir)",
                metadata: ["DIRECTORY": "\(configuration.spool.directory)", "ERROR": "\(error)"])
            throw error
        }
        if spool.opened.droppedBytes > 0 {
            logger.warning(
                "the spool ended in a torn record (a crash while writing it); it was cut off",
                metadata: ["BYTES": "\(spool.opened.droppedBytes)"])
        }
        // The operators' switch (`traffic-police failsafe on|off`) lives in the ledger, shared by every instance.
        let failsafeSwitch = FailsafeSwitchWatch(
            ledger: desk.ledger, watchdog: watchdog,
            instanceID: "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))",
            logger: logger.with(label: "failsafe-switch"))
        let drain = SpoolDrain(spool: spool, queue: queue, watchdog: watchdog, logger: logger.with(label: "spool"))
        let runsWorkers = configuration.queue.workers > 0
        // G5/G6: the controller closes every listing on a trip, rebuilds Redis from the ledger on the
        // way back, and holds queue jobs and rebalancing passes at these gates meanwhile.
        let workGate = WorkGate()
        let publishGate = WorkGate()
        let failsafe = FailsafeController(
            watchdog: watchdog,
            parts: .init(
                desk: desk, spool: spool, queue: queue, marker: RedisMarker(
                    redis: redis,
                    memory: .ledger(desk.ledger, redis: RedisMarker.identity(of: configuration.redis))),
                closer: runsWorkers
                    ? FailsafeCloser(
                        ledger: desk.ledger, publisher: CapacityPublisher(gateway: gateway, lane: .failsafe),
                        logger: logger.with(label: "failsafe")) : nil,
                throttler: throttler,
                reconcile: runsWorkers ? Self.recoveryReconciliation(
                    Reconciler(desk: desk, gateway: gateway, locks: EventLock(redis: redis), logger: logger.with(label: "reconcile")))
                    : nil),
            workGate: workGate, publishGate: publishGate, logger: logger.with(label: "failsafe"))

        let readiness = ReadinessSignal()
        let sockets = Self.sockets(configuration)
        let intake = WebhookIntake(
            configuration: try intakeConfiguration(binding: sockets.webhook),
            sink: FailoverSink(
                queue: queue, spool: spool, failsafe: { watchdog.isFailsafe }, logger: logger.with(label: "intake")),
            readiness: { readiness.isReady }, logger: logger.with(label: "intake"))
        // Reconciliations an operator starts from the dashboard (where workers run).
        let dashboardReconciliations = runsWorkers
            ? DashboardReconciliations(
                reconciler: Reconciler(
                    desk: desk, gateway: gateway, locks: EventLock(redis: redis), logger: logger.with(label: "reconcile")),
                logger: logger.with(label: "admin")) : nil
        let redAlerts = RedAlertBoard()
        // The rebalancer runs where the workers do; operators may ask it for a pass from the dashboard.
        let rebalancer = runsWorkers
            ? Rebalancer(
                desk: desk, publisher: CapacityPublisher(gateway: gateway), locks: EventLock(redis: redis),
                board: redAlerts, gate: publishGate, configuration: Self.rebalancerConfiguration(configuration.rebalancer),
                logger: logger.with(label: "rebalancer"), ready: { await readiness.wait() }) : nil
        var adminConfiguration = AdminServer.Configuration()
        adminConfiguration.socket = sockets.admin
        adminConfiguration.limits = intake.configuration.limits
        let admin = AdminServer(
            configuration: adminConfiguration, registry: metrics.registry,
            snapshot: { try await desk.snapshot($0, allowLedgerFallback: true) },
            sell: {
                // G5: no box-office sale in fail-safe, whatever Redis would say: this daemon's, and (as
                // `traffic-police sell` checks) the operators' switch or any daemon's in the ledger, so a
                // switch turned on is obeyed at once, not at this daemon's next look at it.
                guard !watchdog.isFailsafe else { return .failsafe }
                guard try await desk.ledger.failsafeOverview().reason == nil else { return .failsafe }
                return try await desk.sell($0, quantity: $1.quantity, approvedBy: $1.approvedBy, saleID: $1.saleID)
            },
            readiness: { readiness.isReady },
            dashboard: .live(
                desk: desk, queue: queue, localFailsafe: { watchdog.isFailsafe ? watchdog.status : nil },
                reconciliations: dashboardReconciliations, rebalancer: rebalancer),
            logger: logger.with(label: "admin"))
        var workerConfiguration = QueueWorkers.Configuration()
        workerConfiguration.concurrency = configuration.queue.workers
        let workers = QueueWorkers(
            queue: queue, handler: OrderDeliveryHandler(
                desk: desk, eventbrite: eventbrite,
                overbooked: OverbookedOrders(ledger: desk.ledger, gateway: gateway, logger: logger), logger: logger),
            gate: workGate, configuration: workerConfiguration,
            logger: logger.with(label: "workers"), ready: { await readiness.wait() })
        var gateConfiguration = StartupGate.Configuration()
        gateConfiguration.deadline = configuration.startup.timeout
        let gate = StartupGate(
            configuration: gateConfiguration, listening: [intake.listening, admin.listening], redis: redis,
            postgres: postgres, readiness: readiness, logger: logger)
        let notifier = SystemdNotifierService(
            readiness: readiness,
            status: {
                // While the last ping went unanswered, asking Redis would hold the line for a command timeout.
                let unreachable = "unknown (Redis unreachable)"
                let depth =
                    watchdog.health.firstMissAt != nil
                    ? unreachable : (try? await queue.stats()).map { String($0.depth) } ?? unreachable
                let alerts = redAlerts.statusFragment
                let mode = watchdog.isFailsafe ? "FAIL-SAFE (\(watchdog.status))" : readiness.isReady ? "open" : "starting"
                return "mode=\(mode) queue=\(depth) spool=\(spool.count)"
                    + (alerts.isEmpty ? "" : " RED ALERT \(alerts)")
            },
            probes: [Self.eventLoopProbe(), Self.cooperativePoolProbe()]
                // Every job slot busy for this long means the workers are stuck, not slow.
                + (runsWorkers ? [workers.heartbeat.probe(name: "workers", limit: .seconds(30))] : []),
            logger: logger.with(label: "notify"))

        // `[queue] workers = 0` makes an intake-only instance: it queues deliveries for the
        // workers of other instances sharing the Redis queue (DESIGN.md section 7).
        // Order resolution and polling run where the workers do.
        var background: [any Service] = []
        if runsWorkers, let eventbrite, let client = gateway.eventbrite(.orderLookup) {
            var resolver = EventbriteOrderResolver.Configuration()
            resolver.idleReadInterval = configuration.platforms.eventbrite.catchUpInterval
            background.append(
                EventbriteOrderResolver(
                    queue: queue, delivery: eventbrite, client: client, ledger: desk.ledger, configuration: resolver,
                    logger: logger.with(label: "eventbrite-resolver")))
        }
        if runsWorkers {
            var sweep = LumaGuestSweep.Configuration()
            sweep.interval = configuration.platforms.luma.sweepInterval
            sweep.initialDelay = min(sweep.initialDelay, sweep.interval)
            sweep.jitter = min(sweep.jitter, sweep.interval / 10)
            background.append(
                LumaGuestSweep(
                    gateway: gateway, desk: desk, queue: queue, configuration: sweep,
                    logger: logger.with(label: "luma-sweep")))
        }
        if runsWorkers {
            let meetup = configuration.platforms.meetup
            var poll = MeetupPoller.Configuration()
            poll.schedule.planner.pointsPerMinute = max(1, meetup.budget.effectiveLimit * 3 / 4)
            poll.schedule.planner.maxIntervalMilliseconds = EventbriteOrderResolver.milliseconds(meetup.idlePollInterval)
            poll.schedule.planner.minIntervalMilliseconds = min(
                poll.schedule.planner.minIntervalMilliseconds, poll.schedule.planner.maxIntervalMilliseconds)
            background.append(
                MeetupPoller(
                    gateway: gateway, ledger: desk.ledger, sink: queue, configuration: poll,
                    logger: logger.with(label: "meetup-poller"), ready: { await readiness.wait() }))
        }
        if let rebalancer {
            background.append(rebalancer)
        }
        let services: [ServiceGroupConfiguration.ServiceConfiguration] =
            [.init(service: admin)] + (runsWorkers ? [.init(service: workers)] : [])
            + background.map { .init(service: $0) }
            + (dashboardReconciliations.map { [.init(service: $0)] } ?? [])
            + [.init(service: watchdog), .init(service: failsafeSwitch), .init(service: failsafe), .init(service: drain)]
            + [.init(service: intake), .init(service: gate), .init(service: notifier)]
        let group = ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        do {
            try await group.run()
        } catch {
            await curl.shutdown()
            await spool.close()
            await Self.close(queue, redis, postgres)
            throw error
        }
        await curl.shutdown()
        await spool.close()
        await Self.close(queue, redis, postgres)
        logger.info("stopped")
    }

    /// G6: after a loss of Redis's data, every open event reconciled against the platforms. Fails
    /// (so sales stay closed and it is tried again) while a platform or an event cannot be read;
    /// drift it must leave to an operator is logged by the reconciler and does not hold sales.
    static func recoveryReconciliation(_ reconciler: Reconciler) -> @Sendable () async throws -> Void {
        {
            let run = try await reconciler.reconcile(event: nil, dryRun: false)
            if run.incomplete {
                throw RecoveryReconciliationIncomplete(
                    events: run.events.filter { !$0.unreadable.isEmpty || $0.failure != nil }.map(\.event.rawValue))
            }
        }
    }

    private static func close(_ queue: DeliveryQueue, _ redis: RedisClient, _ postgres: PostgresClient) async {
        await queue.shutdown()
        await redis.shutdown()
        await postgres.shutdown()
    }

    /// The rebalancer's configuration from `[rebalancer]`.
    static func rebalancerConfiguration(_ section: TrafficPoliceConfiguration.Rebalancer) -> Rebalancer.Configuration {
        var rebalancer = Rebalancer.Configuration()
        rebalancer.watchInterval = section.watchInterval
        rebalancer.trigger = RebalanceTrigger.Configuration(
            intervalMilliseconds: section.interval.map(EventbriteOrderResolver.milliseconds) ?? 10_000,
            triggerShare: Double(section.triggerPercent) / 100,
            velocityWindowMilliseconds: EventbriteOrderResolver.milliseconds(section.velocityWindow))
        rebalancer.policy.horizonSeconds = Double(section.horizonSeconds)
        rebalancer.policy.minimumReserve = section.minimumReserve
        rebalancer.policy.movesQuota = section.interval != nil
        return rebalancer
    }

    /// The descriptors systemd passed (`webhook`, `admin`), else the configured paths.
    static func sockets(_ configuration: TrafficPoliceConfiguration) -> (webhook: SocketBinding, admin: SocketBinding) {
        let passed = SocketActivation.listenedDescriptors()
        let webhook = passed.first { $0.name == "webhook" }.map { SocketBinding.descriptor($0.fd) }
        let admin = passed.first { $0.name == "admin" }.map { SocketBinding.descriptor($0.fd) }
        return (
            webhook ?? .path(configuration.intake.socketPath), admin ?? .path(configuration.admin.socketPath)
        )
    }

    func intakeConfiguration(binding: SocketBinding) throws -> WebhookIntake.Configuration {
        var intake = WebhookIntake.Configuration()
        intake.socket = binding
        intake.limits.maxBodyBytes = configuration.intake.maxBodyBytes
        intake.limits.maxHeaderBytes = configuration.intake.maxHeaderBytes
        intake.limits.maxConnections = configuration.intake.maxConnections
        intake.limits.idleTimeout = TimeAmount(configuration.intake.idleTimeout)
        intake.limits.readTimeout = TimeAmount(configuration.intake.readTimeout)
        let availability = credentials.availability
        if availability.acceptsWebhooks(.eventbrite) {
            intake.eventbrite = try .init(
                baseURL: configuration.platforms.eventbrite.baseURL.absoluteString,
                pathSecret: credentials.eventbriteWebhookSecret?.revealed)
        }
        if availability.acceptsWebhooks(.luma), let secret = credentials.lumaWebhookSecret {
            let scheme: LumaSignatureVerifier.Scheme =
                configuration.platforms.luma.signatureScheme == .standardWebhooks ? .standardWebhooks : .timestamped
            intake.luma = try .init(secret: secret.revealed, scheme: scheme)
        }
        return intake
    }

    /// The NIO event loops answer (intake and admin run on them).
    static func eventLoopProbe() -> LivenessProbe {
        LivenessProbe(name: "event-loop") {
            try await MultiThreadedEventLoopGroup.singleton.any().submit {}.get()
        }
    }

    /// Swift's cooperative pool runs a task (workers and the queue run on it).
    static func cooperativePoolProbe() -> LivenessProbe {
        LivenessProbe(name: "tasks") {
            await Task.detached {}.value
        }
    }
}

extension Logger {
    /// A logger with the same handler and metadata under another label suffix.
    func with(label suffix: String) -> Logger {
        var logger = Logger(label: "traffic-police.\(suffix)")
        logger.logLevel = logLevel
        return logger
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

/// The reconciliation of a recovery could not read every platform of these events.
struct RecoveryReconciliationIncomplete: Error, CustomStringConvertible {
    var events: [String]
    var description: String { "the reconciliation could not read every platform of \(events.joined(separator: ", "))" }
}
