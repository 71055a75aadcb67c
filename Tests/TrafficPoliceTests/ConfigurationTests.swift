import Foundation
import Testing
import TrafficPolice

@Suite struct ConfigurationTests {
    private func configuration(file: String = "", environment: [String: String] = [:]) throws
        -> TrafficPoliceConfiguration
    {
        let values = try ConfigurationSource.parse(file, path: "test.toml")
        return try TrafficPoliceConfiguration(
            source: ConfigurationSource(fileValues: values, environment: environment, path: "test.toml"))
    }

    @Test func everyKeyHasADefault() throws {
        let configuration = try configuration()
        #expect(configuration.redis.host == "127.0.0.1")
        #expect(configuration.redis.port == 6379)
        #expect(configuration.postgres.connectionString == "postgresql:///traffic_police")
    }

    @Test func theEnvironmentOverridesTheFile() throws {
        let file = "[redis]\nurl = \"redis://10.0.0.1:7000/2\"\npool_size = 6\n[postgres]\nurl = \"postgresql://a/b\"\n"
        let fromFile = try configuration(file: file)
        #expect(fromFile.redis.port == 7000)
        #expect(fromFile.redis.database == 2)
        #expect(fromFile.redis.poolSize == 6)
        let overridden = try configuration(
            file: file,
            environment: ["TRAFFIC_POLICE_REDIS_URL": "redis://127.0.0.1:7001", "TRAFFIC_POLICE_POSTGRES_URL": "postgresql:///x"])
        #expect(overridden.redis.port == 7001)
        #expect(overridden.postgres.connectionString == "postgresql:///x")
    }

    @Test func multiHostConnectionStringsPassThroughUnchanged() throws {
        let url = "postgresql://h1:5432,h2:5433/ledger?target_session_attrs=read-write"
        #expect(try configuration(environment: ["TRAFFIC_POLICE_POSTGRES_URL": url]).postgres.connectionString == url)
    }

    @Test(arguments: [
        ("TRAFFIC_POLICE_REDIS_URL", "mysql://x", "redis.url"),
        ("TRAFFIC_POLICE_REDIS_POOL_SIZE", "0", "redis.pool_size"),
        ("TRAFFIC_POLICE_REDIS_COMMAND_TIMEOUT_MS", "soon", "redis.command_timeout_ms"),
        ("TRAFFIC_POLICE_POSTGRES_URL", "  ", "postgres.url"),
    ])
    func badValuesNameTheirKey(variable: String, value: String, key: String) {
        #expect {
            try configuration(environment: [variable: value])
        } throws: { error in
            (error as? ConfigurationError)?.key == key
        }
    }

    @Test func environmentNamesFollowTheDesign() {
        #expect(ConfigurationSource.environmentName("redis.url") == "TRAFFIC_POLICE_REDIS_URL")
        #expect(ConfigurationSource.environmentName("platforms.luma.base_url") == "TRAFFIC_POLICE_PLATFORMS_LUMA_BASE_URL")
    }

    @Test func invalidTOMLIsAConfigurationError() {
        #expect(throws: ConfigurationError.self) { try ConfigurationSource.parse("[redis\nurl=", path: "x.toml") }
    }
}

@Suite struct ShippedConfigurationTests {
    /// The example file in etc/ parses, names only known keys, and equals the defaults.
    @Test func theShippedExampleIsValidAndMatchesTheDefaults() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("etc/traffic-police/traffic-police.toml").path
        let source = try ConfigurationSource.load(
            path: path, environment: [:], knownKeys: Set(TrafficPoliceConfiguration.defaults.keys))
        for (key, value) in source.fileValues {
            #expect(TrafficPoliceConfiguration.defaults[key] == value, "\(key) in the example differs from its default")
        }
        #expect(Set(source.fileValues.keys) == Set(TrafficPoliceConfiguration.defaults.keys))
    }
}
