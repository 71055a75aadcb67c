import Foundation
import Testing

/// `traffic-police event close ID --by NAME`: an operator ends an event's sales.
@Suite struct EventCloseCLITests {
    init() async throws {
        try CLIProcess.requireServers()
        #expect(try await CLIProcess.run(["migrate"]).status == 0)
    }

    @Test func closeEndsTheSalesOnceAndTheBoxOfficeStillSells() async throws {
        let help = try await CLIProcess.run(["event", "close", "--help"])
        #expect(help.status == 0 && help.stdout.contains("USAGE"), "\(help)")

        let id = CLIProcess.uniqueID("close")
        #expect(try await CLIProcess.run(["event", "create", id, "--name", "C", "--capacity", "100"]).status == 0)
        let closed = try await CLIProcess.run(["event", "close", id, "--by", "ana", "--reason", "venue cancelled"])
        #expect(closed.status == 0 && closed.stdout.contains("closed \(id)"), "\(closed)")

        let show = try await CLIProcess.run(["event", "show", id, "--json"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])
        #expect(json["mode"] as? String == "closed")
        let platforms = try #require(json["platforms"] as? [String: [String: Any]])
        for platform in ["eventbrite", "luma", "meetup"] {
            #expect(platforms[platform]?["allocation"] as? Int == 0, "\(platform)")
        }

        let again = try await CLIProcess.run(["event", "close", id, "--by", "ana", "--json"])
        #expect(again.status == 0, "\(again)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])
        #expect(result["result"] as? String == "already_closed")

        let sold = try await CLIProcess.run(["sell", id, "--qty", "2", "--approve", "--by", "ana"])
        #expect(sold.status == 0, "\(sold)")
    }

    @Test func closeRefusesAnUnknownEventAndNeedsAnOperator() async throws {
        let unknown = try await CLIProcess.run(["event", "close", CLIProcess.uniqueID("none"), "--by", "ana"])
        #expect(unknown.status == 1, "\(unknown)")
        let nobody = try await CLIProcess.run(["event", "close", CLIProcess.uniqueID("none"), "--by", " "])
        #expect(nobody.status == 64, "\(nobody)")
    }
}
