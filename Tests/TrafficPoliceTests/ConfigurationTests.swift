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

    @Test func newSectionsHaveTheirDefaults() throws {
        let configuration = try configuration()
        #expect(configuration.intake.socketPath == "/run/traffic-police/webhook.sock")
        #expect(configuration.intake.maxBodyBytes == 1_048_576)
        #expect(configuration.intake.maxHeaderBytes == 16_384)
        #expect(configuration.intake.idleTimeout == .seconds(75))
        #expect(configuration.intake.readTimeout == .seconds(10))
        #expect(configuration.intake.maxConnections == 256)
        #expect(configuration.admin.socketPath == "/run/traffic-police/admin.sock")
        #expect(configuration.platforms.eventbrite.baseURL.absoluteString == "https://www.eventbriteapi.com/v3")
        #expect(configuration.platforms.luma.baseURL.absoluteString == "https://public-api.luma.com")
        #expect(configuration.platforms.luma.signatureScheme == .luma)
        #expect(configuration.platforms.meetup.baseURL.absoluteString == "https://api.meetup.com/gql-ext")
        #expect(configuration.queue.workers == 4)
        #expect(configuration.queue.maxAttempts == 8)
        #expect(configuration.spool.directory == "/var/lib/traffic-police")
        #expect(configuration.log.level == .info)
    }

    @Test func everyNewKeyIsOverriddenByItsVariable() throws {
        let configuration = try configuration(
            file: "[intake]\nmax_body_bytes = 2048\n[platforms.luma]\nsignature_scheme = \"luma\"\n",
            environment: [
                "TRAFFIC_POLICE_INTAKE_SOCKET": "/tmp/w.sock",
                "TRAFFIC_POLICE_INTAKE_MAX_BODY_BYTES": "4096",
                "TRAFFIC_POLICE_INTAKE_MAX_HEADER_BYTES": "8192",
                "TRAFFIC_POLICE_INTAKE_IDLE_TIMEOUT_MS": "5000",
                "TRAFFIC_POLICE_INTAKE_READ_TIMEOUT_MS": "2000",
                "TRAFFIC_POLICE_INTAKE_MAX_CONNECTIONS": "10",
                "TRAFFIC_POLICE_ADMIN_SOCKET": "/tmp/a.sock",
                "TRAFFIC_POLICE_PLATFORMS_EVENTBRITE_BASE_URL": "http://127.0.0.1:8080/v3/",
                "TRAFFIC_POLICE_PLATFORMS_LUMA_BASE_URL": "http://127.0.0.1:8081",
                "TRAFFIC_POLICE_PLATFORMS_LUMA_SIGNATURE_SCHEME": "standard-webhooks",
                "TRAFFIC_POLICE_PLATFORMS_MEETUP_BASE_URL": "http://[::1]:8082/gql-ext",
                "TRAFFIC_POLICE_QUEUE_WORKERS": "2",
                "TRAFFIC_POLICE_QUEUE_MAX_ATTEMPTS": "3",
                "TRAFFIC_POLICE_SPOOL_DIR": "/srv/spool",
                "TRAFFIC_POLICE_LOG_LEVEL": "debug",
            ])
        #expect(configuration.intake.socketPath == "/tmp/w.sock")
        #expect(configuration.intake.maxBodyBytes == 4096)
        #expect(configuration.intake.maxHeaderBytes == 8192)
        #expect(configuration.intake.idleTimeout == .seconds(5))
        #expect(configuration.intake.readTimeout == .seconds(2))
        #expect(configuration.intake.maxConnections == 10)
        #expect(configuration.admin.socketPath == "/tmp/a.sock")
        // A trailing slash is dropped so paths can be appended.
        #expect(configuration.platforms.eventbrite.baseURL.absoluteString == "http://127.0.0.1:8080/v3")
        #expect(configuration.platforms.baseURL(.luma).absoluteString == "http://127.0.0.1:8081")
        #expect(configuration.platforms.luma.signatureScheme == .standardWebhooks)
        #expect(configuration.platforms.meetup.baseURL.absoluteString == "http://[::1]:8082/gql-ext")
        #expect(configuration.queue.workers == 2)
        #expect(configuration.queue.maxAttempts == 3)
        #expect(configuration.spool.directory == "/srv/spool")
        #expect(configuration.log.level == .debug)
    }

    @Test func theSpoolDefaultsToTheStateDirectory() throws {
        #expect(try configuration(environment: ["STATE_DIRECTORY": "/var/lib/traffic-police-2"]).spool.directory
            == "/var/lib/traffic-police-2")
        #expect(try configuration(environment: ["STATE_DIRECTORY": "/var/lib/a:/var/lib/b"]).spool.directory
            == "/var/lib/a")
        #expect(try configuration(file: "[spool]\ndir = \"/x\"\n", environment: ["STATE_DIRECTORY": "/y"])
            .spool.directory == "/x")
    }

    @Test(arguments: [
        ("TRAFFIC_POLICE_INTAKE_SOCKET", "webhook.sock", "intake.socket", "absolute"),
        ("TRAFFIC_POLICE_INTAKE_SOCKET", "/" + String(repeating: "s", count: 120), "intake.socket", "107"),
        ("TRAFFIC_POLICE_ADMIN_SOCKET", "/run/traffic-police/webhook.sock", "admin.socket", "differ"),
        ("TRAFFIC_POLICE_INTAKE_MAX_BODY_BYTES", "0", "intake.max_body_bytes", "1024 to"),
        ("TRAFFIC_POLICE_INTAKE_MAX_BODY_BYTES", "1mb", "intake.max_body_bytes", "whole number"),
        ("TRAFFIC_POLICE_INTAKE_MAX_HEADER_BYTES", "10", "intake.max_header_bytes", "whole number"),
        ("TRAFFIC_POLICE_INTAKE_IDLE_TIMEOUT_MS", "-1", "intake.idle_timeout_ms", "whole number"),
        ("TRAFFIC_POLICE_INTAKE_READ_TIMEOUT_MS", "9999999", "intake.read_timeout_ms", "whole number"),
        ("TRAFFIC_POLICE_INTAKE_MAX_CONNECTIONS", "0", "intake.max_connections", "whole number"),
        ("TRAFFIC_POLICE_PLATFORMS_EVENTBRITE_BASE_URL", "ftp://x/v3", "platforms.eventbrite.base_url", "http"),
        ("TRAFFIC_POLICE_PLATFORMS_EVENTBRITE_BASE_URL", "www.eventbriteapi.com/v3", "platforms.eventbrite.base_url", "http"),
        ("TRAFFIC_POLICE_PLATFORMS_LUMA_BASE_URL", "https://", "platforms.luma.base_url", "host"),
        ("TRAFFIC_POLICE_PLATFORMS_LUMA_BASE_URL", "https://x/?a=1", "platforms.luma.base_url", "query"),
        ("TRAFFIC_POLICE_PLATFORMS_MEETUP_BASE_URL", "https://u:p@x/gql", "platforms.meetup.base_url", "user info"),
        ("TRAFFIC_POLICE_PLATFORMS_LUMA_SIGNATURE_SCHEME", "hmac", "platforms.luma.signature_scheme", "one of luma, standard-webhooks"),
        ("TRAFFIC_POLICE_QUEUE_WORKERS", "257", "queue.workers", "whole number"),
        ("TRAFFIC_POLICE_QUEUE_MAX_ATTEMPTS", "many", "queue.max_attempts", "whole number"),
        ("TRAFFIC_POLICE_SPOOL_DIR", "spool", "spool.dir", "absolute"),
        ("TRAFFIC_POLICE_LOG_LEVEL", "verbose", "log.level", "one of trace"),
    ])
    func badNewValuesNameTheirKeyAndWhy(variable: String, value: String, key: String, why: String) {
        #expect {
            try configuration(environment: [variable: value])
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.key == key && error.reason.contains(why) && error.reason.contains(variable)
        }
    }

    @Test func aSecretInTheFileIsRefusedWithoutEchoingIt() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tp-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("tp.toml").path
        try "[platforms.luma]\nwebhook_secret = \"whsec_hunter2\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect {
            try TrafficPoliceConfiguration.load(path: path, environment: [:])
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.key == "platforms.luma.webhook_secret" && error.reason.contains("credentials")
                && !error.description.contains("hunter2")
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
