import PostgresBridge
import TrafficPoliceCore

extension Ledger {
    /// Every listing linked on `platform`: the platform's event id → our event (the Meetup poller
    /// reads the events this gives it).
    public func links(on platform: Platform) async throws -> [String: EventID] {
        let rows = try await postgres.query(
            "SELECT event_id, platform_event_id FROM listings WHERE platform = $1 AND platform_event_id IS NOT NULL",
            [platform.rawValue])
        var links: [String: EventID] = [:]
        for row in rows {
            links[try row.decode("platform_event_id", as: String.self)] = try EventID(
                try row.decode("event_id", as: String.self))
        }
        return links
    }
}
