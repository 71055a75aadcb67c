import Testing
import TrafficPoliceCore

/// The passes operators ask for (``RebalanceRequests``): refusals, coalescing, order.
@Suite struct RebalanceRequestsTests {
    static func id(_ text: String) throws -> EventID { try EventID(text) }

    @Test func aRequestWaitsUntilTakenAndARepeatJoinsIt() throws {
        var requests = RebalanceRequests()
        let event = try Self.id("ev-1")
        #expect(requests.request(event, by: "ana", watched: true, failsafe: false) == .requested)
        #expect(requests.request(event, by: "bo", watched: true, failsafe: false) == .alreadyPending)
        #expect(requests.pending == [.init(event: event, requestedBy: "ana")], "one pass, asked by the first operator")
        #expect(requests.takeAll() == [.init(event: event, requestedBy: "ana")])
        #expect(requests.takeAll().isEmpty, "taken once")
        // Once the pass started, a new request is a new pass.
        #expect(requests.request(event, by: "bo", watched: true, failsafe: false) == .requested)
        #expect(requests.takeAll() == [.init(event: event, requestedBy: "bo")])
    }

    @Test func eventsAreTakenInTheOrderAsked() throws {
        var requests = RebalanceRequests()
        for name in ["ev-b", "ev-a", "ev-c", "ev-a"] {
            _ = requests.request(try Self.id(name), by: "ana", watched: true, failsafe: false)
        }
        #expect(requests.takeAll().map(\.event.rawValue) == ["ev-b", "ev-a", "ev-c"])
    }

    @Test func anUnwatchedEventOrFailsafeIsRefusedAndKeepsNothing() throws {
        var requests = RebalanceRequests()
        let event = try Self.id("ev-1")
        #expect(requests.request(event, by: "ana", watched: false, failsafe: false) == .unknownEvent)
        #expect(requests.request(event, by: "ana", watched: false, failsafe: true) == .unknownEvent)
        #expect(requests.request(event, by: "ana", watched: true, failsafe: true) == .failsafe)
        #expect(requests.pending.isEmpty)
        // A waiting request is not joined in fail-safe either: the refusal says so.
        #expect(requests.request(event, by: "ana", watched: true, failsafe: false) == .requested)
        #expect(requests.request(event, by: "bo", watched: true, failsafe: true) == .failsafe)
        #expect(requests.pending.count == 1)
    }

    @Test func theReasonIsLoggedAsOperator() {
        #expect(RebalanceTrigger.Reason.operatorRequest.rawValue == "operator")
    }
}
