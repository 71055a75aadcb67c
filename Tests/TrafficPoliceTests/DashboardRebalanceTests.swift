import Foundation
import Logging
import Testing
import TrafficPolice
import TrafficPoliceCore

/// "Rebalance now" on the dashboard (a fake rebalancer behind the hook), on a real admin socket
/// against the real Redis and PostgreSQL: the guarded path, the answers, the log line.
@Suite("Dashboard rebalance", .timeLimit(.minutes(1)))
struct DashboardRebalanceTests {
    /// A hook that records who asked for which event and answers `answer`.
    final class FakeRebalancer: Sendable {
        let asked = Locked<[String]>([])
        let answer = Locked(RebalanceRequests.Outcome.requested)

        var hook: @Sendable (EventID, String) async -> RebalanceRequests.Outcome {
            { id, by in
                self.asked.withLock { $0.append("\(id.rawValue) by \(by)") }
                return self.answer.value
            }
        }
    }

    static func text(_ response: RawResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    @Test func aConfirmedRequestWithTheTokenAsksForOnePassAndWithoutItNothing() async throws {
        let fake = FakeRebalancer()
        try await DashboardServerTests.withWorld(rebalance: fake.hook) { world in
            let target = "\(world.eventPath)/rebalance"
            let fields = [("operator", "ana"), ("confirm", "yes")]
            let page = Self.text(try await world.get(world.eventPath))
            #expect(page.contains(#"action="\#(target)""#) && page.contains("Rebalance now…"))
            let token = try await world.token()
            #expect(try await world.refusedStatuses(target, fields, token: token) == [403, 403, 403])
            let asked = try await world.post(target, [("operator", "ana")], token: token)
            #expect(asked.status == 200 && Self.text(asked).contains("Rebalance now"), "the confirmation page first")
            #expect(try await world.post(target, [("confirm", "yes")], token: token).status == 400)  // no operator
            #expect(fake.asked.value.isEmpty, "nothing asked before a confirmed request with the token")

            let requested = try await world.post(target, fields, token: token)
            #expect(requested.status == 202)
            #expect(Self.text(requested).contains("A rebalancing pass of \(world.event.rawValue) was requested"))
            #expect(fake.asked.value == ["\(world.event.rawValue) by ana"])
            let logged = world.logs.entries.filter { $0.message == "rebalancing pass requested" }
            #expect(logged.count == 1)
            #expect(logged.first?.fields["OPERATOR"] == "ana" && logged.first?.fields["SOURCE"] == "dashboard")
            #expect(logged.first?.fields["EVENT_ID"] == world.event.rawValue)

            // What the rebalancer answers decides the page.
            fake.answer.withLock { $0 = .alreadyPending }
            let joined = try await world.post(target, fields, token: token)
            #expect(joined.status == 202 && Self.text(joined).contains("already waiting"))
            fake.answer.withLock { $0 = .failsafe }
            #expect(try await world.post(target, fields, token: token).status == 423)
            fake.answer.withLock { $0 = .unknownEvent }
            let unwatched = try await world.post(target, fields, token: token)
            #expect(unwatched.status == 409 && Self.text(unwatched).contains("listed on no platform"))
            #expect(fake.asked.value.count == 4)

            // An event the ledger does not know is 404 and asks nothing.
            let unknown = try TestServers.eventID("dash-none")
            let missing = try await world.post("/dashboard/events/\(unknown.rawValue)/rebalance", fields, token: token)
            #expect(missing.status == 404)
            #expect(fake.asked.value.count == 4)
        }
    }

    @Test func failsafeRefusesBeforeAskingTheRebalancer() async throws {
        let fake = FakeRebalancer()
        try await DashboardServerTests.withWorld(rebalance: fake.hook) { world in
            try await world.stack.ledger.setMode(.failsafe, event: world.event)
            _ = try await world.stack.reservations.setMode(.failsafe, event: world.event)
            let token = try await world.token()
            let refused = try await world.post(
                "\(world.eventPath)/rebalance", [("operator", "ana"), ("confirm", "yes")], token: token)
            #expect(refused.status == 423 && Self.text(refused).contains("fail-safe"))
            #expect(fake.asked.value.isEmpty)
        }
    }

    @Test func aServerWithoutARebalancerOffersNothing() async throws {
        try await DashboardServerTests.withWorld { world in
            let page = Self.text(try await world.get(world.eventPath))
            #expect(!page.contains("/rebalance") && !page.contains("Rebalance now"))
            let token = try await world.token()
            for fields in [[("operator", "ana")], [("operator", "ana"), ("confirm", "yes")]] {
                #expect(try await world.post("\(world.eventPath)/rebalance", fields, token: token).status == 503)
            }
        }
    }
}
