import Foundation
import Testing
import TrafficPolice
import TrafficPoliceCore

/// "End sales…" on the dashboard (`EventDesk.close` behind it, as `traffic-police event close`), on a
/// real admin socket against the real Redis and PostgreSQL: the guarded path, the answers, the log line.
@Suite("Dashboard close", .timeLimit(.minutes(1)))
struct DashboardCloseTests {
    static func text(_ response: RawResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    /// The event's mode in Redis and in the ledger, as `redis/ledger`.
    static func mode(_ world: DashboardServerTests.World) async throws -> String {
        let redis = try await world.stack.desk.snapshot(world.event).mode.rawValue
        return "\(redis)/\(try await world.stack.ledger.event(world.event)?.mode.rawValue ?? "none")"
    }

    @Test func aConfirmedRequestWithTheTokenEndsTheSalesOnceAndWithoutItNothing() async throws {
        try await DashboardServerTests.withWorld { world in
            let target = "\(world.eventPath)/close"
            let fields = [("operator", "ana"), ("reason", "venue cancelled"), ("confirm", "yes")]
            let page = Self.text(try await world.get(world.eventPath))
            #expect(page.contains(#"action="\#(target)""#) && page.contains("End sales…"))
            let token = try await world.token()
            #expect(try await world.refusedStatuses(target, fields, token: token) == [403, 403, 403])
            let asked = try await world.post(target, [("operator", "ana"), ("reason", "venue cancelled")], token: token)
            let confirmation = Self.text(asked)
            #expect(asked.status == 200 && confirmation.contains("End the sales of Dashboard &lt;Launch&gt;"), "the confirmation page first")
            #expect(confirmation.contains("There is no reopening") && confirmation.contains(#"name="reason" value="venue cancelled""#))
            #expect(try await world.post(target, [("confirm", "yes")], token: token).status == 400)  // no operator
            #expect(try await Self.mode(world) == "open/open", "nothing closed before a confirmed request with the token")

            let ended = try await world.post(target, fields, token: token)
            #expect(ended.status == 200 && Self.text(ended).contains("Sales ended"))
            #expect(try await Self.mode(world) == "closed/closed")
            let logged = world.logs.entries.filter { $0.message == "sales ended" }
            #expect(logged.count == 1 && logged.first?.level == .notice)
            #expect(logged.first?.fields["OPERATOR"] == "ana" && logged.first?.fields["SOURCE"] == "dashboard")
            #expect(logged.first?.fields["EVENT_ID"] == world.event.rawValue && logged.first?.fields["REASON"] == "venue cancelled")

            // Again: nothing changes, whether confirmed or not (no confirmation page for a closed event).
            for again in [fields, [("operator", "bo")]] {
                let repeated = try await world.post(target, again, token: token)
                #expect(repeated.status == 200 && Self.text(repeated).contains("Already ended"))
                #expect(!Self.text(repeated).contains("End the sales of"))
            }
            #expect(world.logs.entries.filter { $0.message == "sales ended" }.count == 1)

            // The button is gone; the events list shows the mode.
            let closedPage = Self.text(try await world.get(world.eventPath, token: token))
            #expect(!closedPage.contains(#"action="\#(target)""#) && !closedPage.contains("End sales"))
            #expect(closedPage.contains(#"<span class="badge mode-closed">closed</span>"#))
            let list = Self.text(try await world.get("/dashboard", token: token))
            #expect(list.contains(#"<tr class="mode-closed"><td><a href="\#(world.eventPath)">"#))

            // An event the ledger does not know is 404.
            let unknown = try TestServers.eventID("dash-none")
            #expect(try await world.post("/dashboard/events/\(unknown.rawValue)/close", fields, token: token).status == 404)
            #expect(try await world.post("/dashboard/events/\(unknown.rawValue)/close", [("operator", "ana")], token: token).status == 404)
        }
    }

    @Test func redAlertAndFailsafeDoNotStopIt() async throws {
        for mode in [EventMode.redAlert, .failsafe] {
            try await DashboardServerTests.withWorld { world in
                try await world.stack.ledger.setMode(mode, event: world.event)
                _ = try await world.stack.reservations.setMode(mode, event: world.event)
                let token = try await world.token()
                let page = Self.text(try await world.get(world.eventPath, token: token))
                #expect(page.contains("End sales…"), "\(mode)")
                let ended = try await world.post(
                    "\(world.eventPath)/close", [("operator", "ana"), ("confirm", "yes")], token: token)
                #expect(ended.status == 200 && Self.text(ended).contains("Sales ended"), "\(mode)")
                #expect(try await Self.mode(world) == "closed/closed", "\(mode)")
            }
        }
    }

    @Test func aServerThatCannotCloseOffersNothingAndAFailureIsUnavailable() async throws {
        try await DashboardServerTests.withWorld(source: { $0.close = nil }) { world in
            let page = Self.text(try await world.get(world.eventPath))
            #expect(!page.contains("/close") && !page.contains("End sales"))
            let token = try await world.token()
            for fields in [[("operator", "ana")], [("operator", "ana"), ("confirm", "yes")]] {
                #expect(try await world.post("\(world.eventPath)/close", fields, token: token).status == 503)
            }
            #expect(try await Self.mode(world) == "open/open")
        }
        struct Unreachable: Error {}
        try await DashboardServerTests.withWorld(source: { $0.close = { _, _, _ in throw Unreachable() } }) { world in
            let token = try await world.token()
            let failed = try await world.post("\(world.eventPath)/close", [("operator", "ana"), ("confirm", "yes")], token: token)
            #expect(failed.status == 503 && Self.text(failed).contains("Not ended"))
            let logged = world.logs.entries.filter { $0.message == "sales not ended" }
            #expect(logged.count == 1 && logged.first?.fields["OPERATOR"] == "ana" && logged.first?.fields["ERROR"] != nil)
        }
    }
}
