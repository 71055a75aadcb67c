import RedisBridge
import Testing

@Suite("RedisConfiguration")
struct RedisConfigurationTests {
    @Test func defaults() {
        let configuration = RedisConfiguration()
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 6379)
        #expect(configuration.unixSocketPath == nil)
        #expect(configuration.username == nil)
        #expect(configuration.password == nil)
        #expect(configuration.database == 0)
        #expect(configuration.connectTimeout == .seconds(2))
        #expect(configuration.commandTimeout == .seconds(2))
        #expect(configuration.poolSize == 4)
    }

    @Test func hostOnly() throws {
        let configuration = try RedisConfiguration(url: "redis://cache.internal")
        #expect(configuration.host == "cache.internal")
        #expect(configuration.port == 6379)
        #expect(configuration.database == 0)
        #expect(configuration.password == nil)
    }

    @Test func hostPortDatabase() throws {
        let configuration = try RedisConfiguration(url: "redis://10.0.0.1:6380/3")
        #expect(configuration.host == "10.0.0.1")
        #expect(configuration.port == 6380)
        #expect(configuration.database == 3)
        #expect(configuration.unixSocketPath == nil)
    }

    @Test func trailingSlashIsDatabaseZero() throws {
        #expect(try RedisConfiguration(url: "redis://h:1/").database == 0)
    }

    @Test func passwordOnly() throws {
        let configuration = try RedisConfiguration(url: "redis://:s3cret@h:7000/2")
        #expect(configuration.username == nil)
        #expect(configuration.password == "s3cret")
        #expect(configuration.host == "h")
        #expect(configuration.port == 7000)
        #expect(configuration.database == 2)
    }

    @Test func userAndPercentEncodedPassword() throws {
        let configuration = try RedisConfiguration(url: "redis://alice:p%40ss%3Aword@h")
        #expect(configuration.username == "alice")
        #expect(configuration.password == "p@ss:word")
    }

    @Test func ipv6AndCaseInsensitiveScheme() throws {
        let configuration = try RedisConfiguration(url: "REDIS://[::1]:7001")
        #expect(configuration.host == "::1")
        #expect(configuration.port == 7001)
        #expect(try RedisConfiguration(url: "redis://[::1]").port == 6379)
    }

    @Test func unixSocket() throws {
        let plain = try RedisConfiguration(url: "unix:///var/run/redis/redis.sock")
        #expect(plain.unixSocketPath == "/var/run/redis/redis.sock")
        #expect(plain.database == 0)
        let withDatabase = try RedisConfiguration(url: "unix:///tmp/r.sock?db=5")
        #expect(withDatabase.unixSocketPath == "/tmp/r.sock")
        #expect(withDatabase.database == 5)
    }

    @Test(
        "invalid URLs throw invalidConfiguration with a clear message",
        arguments: [
            ("rediss://h:6380", "TLS"),
            ("http://h", "unsupported scheme"),
            ("garbage", "expected redis://"),
            ("", "expected redis://"),
            ("redis://", "host is missing"),
            ("redis://:6379", "host is missing"),
            ("redis://h:0", "port"),
            ("redis://h:70000", "port"),
            ("redis://h:abc", "port"),
            ("redis://h:", "port"),
            ("redis://h:+80", "port"),
            ("redis://h/x", "database"),
            ("redis://h/-1", "database"),
            ("redis://h/1/2", "database"),
            ("redis://h/99999999999", "database"),
            ("redis://h?db=1", "query"),
            ("redis://h#frag", "fragment"),
            ("redis://::1", "brackets"),
            ("redis://[::1", "IPv6"),
            ("redis://user@h", "credentials"),
            ("redis://user:@h", "password is empty"),
            ("redis://:p%zz@h", "percent-encoding"),
            ("unix://relative.sock", "absolute"),
            ("unix:///", "absolute"),
            ("unix:///tmp/s?db=x", "database"),
            ("unix:///tmp/s?foo=1", "query parameter"),
        ]
    )
    func invalid(url: String, expectedFragment: String) throws {
        let error = try #require(throws: RedisError.self) {
            try RedisConfiguration(url: url)
        }
        #expect(error.kind == .invalidConfiguration)
        #expect(error.message.contains(expectedFragment), "message: \(error.message)")
    }

    @Test func passwordsAreRedactedInErrors() throws {
        let error = try #require(throws: RedisError.self) {
            try RedisConfiguration(url: "redis://bob:topsecret@h:99999")
        }
        #expect(!error.message.contains("topsecret"), "message: \(error.message)")
        #expect(!error.description.contains("topsecret"))
    }

    @Test func validate() throws {
        var configuration = RedisConfiguration()
        try configuration.validate()
        configuration.poolSize = 0
        let error = try #require(throws: RedisError.self) { try configuration.validate() }
        #expect(error.kind == .invalidConfiguration)
        #expect(error.message.contains("poolSize"))
    }

    @Test func invalidConfigurationMakesCallsThrow() async throws {
        var configuration = RedisConfiguration()
        configuration.poolSize = 0
        let client = RedisClient(configuration: configuration)
        let error = await redisError { try await client.send("PING") }
        #expect(error?.kind == .invalidConfiguration)
        await client.shutdown()
    }
}
