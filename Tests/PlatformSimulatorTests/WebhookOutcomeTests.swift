import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@testable import PlatformSimulator

/// `GET /control/webhooks/outcomes` names the order of every delivery and whether the receiver
/// acknowledged it: the fault suite compares the acknowledged orders with the daemon's ledger.
@Suite(.timeLimit(.minutes(1))) struct WebhookOutcomeTests {
    @Test func outcomesNameTheOrderAndTheAcknowledgement() async throws {
        try await RunningSimulator.with { sim in
            let path = "/tmp/platform-sim-outcomes-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
            // Eventbrite's deliveries are acknowledged, Luma's refused with a 500.
            let receiver = try await ServerBootstrap(group: sim.group)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        try channel.pipeline.syncOperations.addHandler(SimulatorHTTPHandler { request in
                            SimResponse(status: request.path == "/webhooks/eventbrite" ? 202 : 500)
                        })
                    }
                }
                .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
            defer { try? FileManager.default.removeItem(atPath: path) }
            _ = try await sim.control("POST", "/control/config", [
                "eventbrite": ["webhook": ["unix_socket": .string(path), "path": "/webhooks/eventbrite"]],
                "luma": ["webhook": ["unix_socket": .string(path), "path": "/webhooks/luma"]],
                "webhooks": ["duplicate_probability": 0, "drop_probability": 0, "retries": 0],
            ])
            _ = try await sim.control("POST", "/control/events", ["platform": "eventbrite", "id": "e1", "capacity": nil])
            _ = try await sim.control("POST", "/control/events", ["platform": "luma", "id": "evt-1", "capacity": nil])
            let order = try await sim.control("POST", "/control/sales", ["platform": "eventbrite", "event_id": "e1", "quantity": 1])
            let guest = try await sim.control("POST", "/control/sales", ["platform": "luma", "event_id": "evt-1", "quantity": 1])
            let orderID = try #require(order.json?["sale"]?["eventbrite"]?["order_id"]?.stringValue)
            let guestID = try #require(guest.json?["sale"]?["luma"]?["guest_id"]?.stringValue)

            var outcomes: [JSON] = []
            for _ in 0..<100 {
                outcomes = try await sim.control("GET", "/control/webhooks/outcomes").json?["outcomes"]?.arrayValue ?? []
                if !outcomes.isEmpty, outcomes.allSatisfy({ $0["last_status"] != .null }) { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let eventbrite = outcomes.filter { $0["platform"] == "eventbrite" }
            let luma = outcomes.filter { $0["platform"] == "luma" }
            try #require(eventbrite.count == 1 && luma.count >= 2, "\(outcomes)")
            #expect(eventbrite[0]["order_id"] == .string(orderID) && eventbrite[0]["type"] == "order.placed")
            #expect(eventbrite[0]["acknowledged"] == true && eventbrite[0]["acknowledged_status"] == 202)
            #expect(eventbrite[0]["acknowledged_at"]?.stringValue?.hasSuffix("Z") == true)
            #expect(luma.allSatisfy { $0["order_id"] == .string(guestID) && $0["acknowledged"] == false && $0["last_status"] == 500 })
            #expect(luma.allSatisfy { $0["acknowledged_at"] == .null && $0["attempts"] == 1 && $0["duplicated"] == false })

            let filtered = try await sim.control("GET", "/control/webhooks/outcomes?platform=luma").json?["outcomes"]?.arrayValue
            #expect(filtered?.count == luma.count)
            try await receiver.close()
        }
    }
}
