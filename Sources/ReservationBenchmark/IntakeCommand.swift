import ArgumentParser
import Foundation
import NIOCore
import NIOPosix

/// `reservation-bench intake`: signed Luma deliveries against the daemon's intake Unix socket,
/// open loop at a fixed rate (latency from each request's due time) or closed loop (max rate).
struct IntakeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intake",
        abstract: "Load the webhook intake socket with pre-signed Luma deliveries; report rate and latency.")

    enum Mode: String, ExpressibleByArgument, CaseIterable { case open, closed }

    @Option(help: "The intake Unix socket (TRAFFIC_POLICE_INTAKE_SOCKET).")
    var socket: String
    @Option(help: "The Luma webhook secret (default: $TRAFFIC_POLICE_CREDENTIAL_LUMA_WEBHOOK_SECRET).")
    var secret: String?
    @Option(help: "open: a fixed rate, latency from each request's due time; closed: back to back.")
    var mode: Mode = .open
    @Option(help: "Open loop: requests per second.")
    var rate: Double = 5000
    @Option(help: "Seconds: open loop, the span of due times; closed loop, the cap on sending.")
    var duration: Double = 10
    @Option(help: "Keep-alive connections.")
    var connections: Int = 32
    @Option(help: "Requests in flight per connection (1: no HTTP pipelining).")
    var pipeline: Int = 1
    @Option(help: "Closed loop: the cap on requests (the run stops at whichever of this or --duration comes first).")
    var requests: Int = 100_000
    @Option(help: "Closed-loop requests sent first and not measured.")
    var warmup: Int = 1000
    @Option(help: "The Luma event id in the payloads (unlinked: the workers ack and ignore them).")
    var eventID: String = "evt-bench-unlinked"
    @Option(help: "event_tickets per payload.")
    var tickets: Int = 1
    @Option(help: "Event-loop threads of the load generator.")
    var threads: Int = 1
    @Option(help: "Seconds to wait for the last answers after --duration.")
    var grace: Double = 5
    @Flag(help: "Print one JSON line instead of text.")
    var json = false

    func validate() throws {
        guard rate > 0, rate <= 200_000 else { throw ValidationError("--rate must be in (0, 200000]") }
        guard duration > 0, duration <= 300 else { throw ValidationError("--duration must be in (0, 300] seconds") }
        guard (1...256).contains(connections) else { throw ValidationError("--connections must be 1...256") }
        guard (1...64).contains(pipeline) else { throw ValidationError("--pipeline must be 1...64") }
        guard (1...1_000_000).contains(requests), (0...100_000).contains(warmup) else {
            throw ValidationError("--requests must be 1...1000000 and --warmup 0...100000")
        }
        guard mode == .closed || rate * duration <= 1_000_000 else { throw ValidationError("--rate × --duration must be ≤ 1000000") }
        guard (0...100).contains(tickets), (1...16).contains(threads), grace >= 0, grace <= 60 else {
            throw ValidationError("--tickets 0...100, --threads 1...16, --grace 0...60")
        }
    }

    func run() async throws {
        guard let secret = secret ?? ProcessInfo.processInfo.environment["TRAFFIC_POLICE_CREDENTIAL_LUMA_WEBHOOK_SECRET"],
            !secret.isEmpty
        else { throw ValidationError("no --secret and no TRAFFIC_POLICE_CREDENTIAL_LUMA_WEBHOOK_SECRET") }
        let run = String(UUID().uuidString.prefix(8)).lowercased()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        do {
            try await measure(secret: secret, run: run, group: group)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        try await group.shutdownGracefully()
    }

    /// The warm-up, then the measured run and its report.
    private func measure(secret: String, run: String, group: any EventLoopGroup) async throws {
        let span = TimeAmount.nanoseconds(Int64(duration * 1e9))
        let wait = TimeAmount.nanoseconds(Int64(grace * 1e9))

        if warmup > 0 {
            let requests = IntakeRequests.make(count: warmup, run: run + "w", secret: secret, eventID: eventID, tickets: tickets)
            let plan = IntakePlan(mode: .closed, requests: requests, connections: connections, depth: pipeline, duration: span, grace: wait)
            let (tally, _) = try await IntakeRun.run(plan, socket: socket, group: group)
            guard tally.statuses[202] == warmup else {
                throw ValidationError("warm-up failed: statuses \(tally.statuses), unanswered \(tally.unanswered), \(tally.errors.prefix(3))")
            }
        }
        let count = mode == .open ? Int((rate * duration).rounded()) : requests
        let signed = IntakeRequests.make(count: count, run: run, secret: secret, eventID: eventID, tickets: tickets)
        let plan = IntakePlan(
            mode: mode == .open ? .open(rate: rate) : .closed, requests: signed, connections: connections,
            depth: pipeline, duration: span, grace: wait)
        let (tally, t0) = try await IntakeRun.run(plan, socket: socket, group: group)
        let report = IntakeReport(mode: mode.rawValue, plan: plan, targetRate: mode == .open ? rate : nil, tally: tally, t0: t0)
        print(json ? report.json : report.text)
    }
}
