import CurlBridge
import Foundation
import Logging
import PlatformClients
import RedisBridge
import Testing
import TrafficPolice
import TrafficPoliceCore

/// G7's second half: when a platform answers 429 anyway (a token shared with someone else), the
/// gateway honours its `Retry-After` for every instance — the pause is in Redis, and no call of ours
/// reaches the platform until it ends.
@Suite(.timeLimit(.minutes(1))) struct PlatformGatewayTests {
    @Test func a429PausesThePlatformForEveryInstanceUntilItsRetryAfter() async throws {
        try await TestSimulator.with { sim in
            try await TestServers.withRedis(poolSize: 2) { redis in
                let key = "luma-gateway-\(UUID().uuidString.prefix(8).lowercased())"
                try await sim.control("POST", "/control/credentials", ["luma": [key]])
                // Luma allows 3 requests a minute here; the daemon was told 200 (someone else uses the token).
                try await sim.control("POST", "/control/config", ["luma": ["requests_per_window": 3, "window_seconds": 60, "block_seconds": 60]])
                let event = "evt-\(UUID().uuidString.prefix(8).lowercased())"
                try await sim.control("POST", "/control/events", ["platform": "luma", "id": event, "capacity": 10])

                let curl = CurlClient()
                defer { Task { await curl.shutdown() } }
                let endpoint = PlatformEndpoint(platform: .luma, credential: PlatformCredential(key), baseURL: sim.lumaBase)
                func gateway(maxWait: Duration) throws -> PlatformGateway {
                    PlatformGateway(
                        endpoints: [.luma: endpoint], throttler: try Throttler(redis: redis, maxWait: maxWait), curl: curl,
                        logger: Logger(label: "test.gateway"))
                }
                let first = try #require(try gateway(maxWait: .seconds(5)).luma(.orderLookup))
                var limited: PlatformCallError?
                for _ in 0..<4 {
                    do {
                        _ = try await first.guests(eventID: event, approvalStatus: nil, cursor: nil, limit: 10)
                    } catch let error as PlatformCallError {
                        limited = error
                    }
                }
                guard case .rateLimited(let retryAfter, _, _) = limited else {
                    Issue.record("expected a 429, got \(String(describing: limited))")
                    return
                }
                #expect(retryAfter != nil)

                // The pause is in Redis, under the token's account, for about the Retry-After.
                let paused = "tp:{throttle:luma}:\(PlatformGateway.account(of: endpoint)):paused"
                let ttl = try await redis.send("PTTL", paused).integer ?? -2
                #expect(ttl > 30_000, "no shared pause after the 429 (PTTL \(ttl))")

                // Another instance (its own throttler, same Redis) does not call Luma while it lasts.
                let requestsBefore = try await sim.lumaRequests().count
                let second = try #require(try gateway(maxWait: .milliseconds(200)).luma(.orderLookup))
                await #expect(throws: ThrottleError.self) {
                    _ = try await second.guests(eventID: event, approvalStatus: nil, cursor: nil, limit: 10)
                }
                #expect(try await sim.lumaRequests().count == requestsBefore)
                _ = try await redis.send("DEL", paused)
            }
        }
    }
}
