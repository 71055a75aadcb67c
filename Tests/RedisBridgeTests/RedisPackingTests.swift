import Foundation
import RedisBridge
import Testing

/// Which pooled connection a command goes to (`RedisConfiguration.packingLimit`).
@Suite struct RedisPackingTests {
    @Test func concurrentCommandsUnderTheLimitShareTheFirstConnection() async throws {
        var configuration = try TestEnvironment.sharedConfiguration(poolSize: 4)
        configuration.packingLimit = 16
        try await withClient(configuration) { client in
            let ids = try await withThrowingTaskGroup(of: RedisReply.self) { group in
                for _ in 0..<8 { group.addTask { try await client.send("CLIENT", "ID") } }
                return try await group.reduce(into: Set<RedisReply>()) { $0.insert($1) }
            }
            // Never more than 8 pending on the first connection, under the limit of 16: one batch, one connection.
            #expect(ids.count == 1)
        }
    }

    @Test func commandsPastTheLimitSpreadOverTheConnections() async throws {
        let prefix = TestEnvironment.uniquePrefix("packing")
        var configuration = try TestEnvironment.sharedConfiguration(poolSize: 4)
        configuration.packingLimit = 1
        configuration.commandTimeout = .seconds(15)  // the blocked commands wait up to 10 s on a busy machine
        let keys = (0..<4).map { prefix + "zset-\($0)" }
        try await withClient(configuration) { client in
            try await withClient(try TestEnvironment.sharedConfiguration(poolSize: 1)) { observer in
                try await withThrowingTaskGroup(of: RedisReply.self) { group in
                    for key in keys { group.addTask { try await client.send("BZPOPMAX", key, "10") } }
                    // With a limit of 1, each blocked command holds a connection of its own: all
                    // four block at once (packed, they would block one after another).
                    var blocked = 0
                    for _ in 0..<250 where blocked < 4 {
                        let list = try await observer.send("CLIENT", "LIST").string ?? ""
                        blocked = list.split(separator: "\n").filter { $0.contains("cmd=bzpopmax") }.count
                        if blocked < 4 { try await Task.sleep(for: .milliseconds(20)) }
                    }
                    #expect(blocked >= 4)
                    for key in keys { _ = try await observer.send("ZADD", key, "1", "member") }
                    for try await reply in group { #expect(reply != .null) }
                }
            }
        }
    }

    @Test func aNegativeLimitIsRefused() {
        var configuration = RedisConfiguration()
        configuration.packingLimit = -1
        #expect(throws: RedisError.self) { try configuration.validate() }
    }
}
