import Foundation
import Logging
import Testing
import TrafficPolice
import TrafficPoliceCore

@Suite struct ConfigurationCredentialsTests {
    /// A temporary $CREDENTIALS_DIRECTORY holding `files`.
    private func withCredentialsDirectory<T>(_ files: [String: String], _ body: (String) throws -> T) throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tp-creds-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for (name, text) in files {
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return try body(directory.path)
    }

    @Test func filesInTheCredentialsDirectoryWinAndLoseTheirTrailingNewline() throws {
        let credentials = try withCredentialsDirectory([
            "eventbrite-token": "EB-TOKEN\n", "luma-api-key": "lu-key\r\n", "luma-webhook-secret": "whsec_abc",
            "meetup-token": "\n",  // the unit's SetCredential= fallback for a missing file: absent
        ]) { directory in
            try Credentials.load(environment: [
                "CREDENTIALS_DIRECTORY": directory,
                "TRAFFIC_POLICE_CREDENTIAL_EVENTBRITE_TOKEN": "from-env",
                "TRAFFIC_POLICE_CREDENTIAL_MEETUP_TOKEN": "meetup-env\n",
            ])
        }
        #expect(credentials.eventbriteToken?.revealed == "EB-TOKEN")
        #expect(credentials.lumaAPIKey?.revealed == "lu-key")
        #expect(credentials.lumaWebhookSecret?.revealed == "whsec_abc")
        #expect(credentials.meetupToken?.revealed == "meetup-env")
        #expect(credentials.eventbriteWebhookSecret == nil)
        #expect(credentials.origins[.eventbriteToken] == .credentialsDirectory)
        #expect(credentials.origins[.meetupToken] == .environment)
    }

    @Test func environmentFallbackNames() throws {
        #expect(CredentialName.lumaWebhookSecret.environmentName == "TRAFFIC_POLICE_CREDENTIAL_LUMA_WEBHOOK_SECRET")
        #expect(CredentialName.eventbriteToken.environmentName == "TRAFFIC_POLICE_CREDENTIAL_EVENTBRITE_TOKEN")
        #expect(CredentialName.allCases.map(\.rawValue) == [
            "eventbrite-token", "eventbrite-webhook-secret", "luma-api-key", "luma-webhook-secret", "meetup-token",
        ])
        let credentials = try Credentials.load(environment: ["TRAFFIC_POLICE_CREDENTIAL_LUMA_WEBHOOK_SECRET": "s"])
        #expect(credentials.lumaWebhookSecret?.revealed == "s")
        #expect(try Credentials.load(environment: [:]).availability.enabled.isEmpty)
    }

    @Test func anUnreadableFileIsAConfigurationError() throws {
        try withCredentialsDirectory(["luma-api-key": String(repeating: "x", count: Credentials.maximumBytes + 1)]) {
            directory in
            #expect {
                try Credentials.load(environment: ["CREDENTIALS_DIRECTORY": directory])
            } throws: { error in
                (error as? ConfigurationError)?.key == "credential luma-api-key"
            }
        }
    }

    @Test func secretsNeverPrint() throws {
        let credentials = try Credentials.load(environment: [
            "TRAFFIC_POLICE_CREDENTIAL_EVENTBRITE_TOKEN": "hunter2", "TRAFFIC_POLICE_CREDENTIAL_MEETUP_TOKEN": "hunter3",
        ])
        let token = try #require(credentials.eventbriteToken)
        var dumped = ""
        dump(credentials, to: &dumped)
        dump(token, to: &dumped)
        let renderings = [
            "\(credentials)", String(describing: credentials), String(reflecting: credentials), "\(token)",
            String(reflecting: token), dumped, "\(credentials.availability)",
        ]
        for text in renderings { #expect(!text.contains("hunter"), "\(text)") }
        #expect("\(credentials)" == "Credentials(eventbrite-token (environment), meetup-token (environment))")
    }

    @Test func availabilityFollowsTheCredentials() {
        let all = PlatformAvailability(present: Set(CredentialName.allCases))
        #expect(all.enabled == [.eventbrite, .luma, .meetup])
        #expect(all.warnings.isEmpty)
        #expect(!all.acceptsWebhooks(.meetup))
        #expect(all.callsAPI(.luma))

        let lumaWebhooksOnly = PlatformAvailability(present: [.lumaWebhookSecret, .meetupToken])
        #expect(lumaWebhooksOnly.enabled == [.meetup])
        #expect(!lumaWebhooksOnly.isEnabled(.luma))
        #expect(!lumaWebhooksOnly.acceptsWebhooks(.luma))
        #expect(!lumaWebhooksOnly.callsAPI(.luma))
        #expect(!lumaWebhooksOnly.isEnabled(.eventbrite))
        #expect(!lumaWebhooksOnly.acceptsWebhooks(.eventbrite))
        #expect(lumaWebhooksOnly.warnings.map(\.platform) == [.eventbrite, .luma])

        let apiKeyOnly = PlatformAvailability(present: [.lumaAPIKey])
        #expect(!apiKeyOnly.isEnabled(.luma))
        #expect(!apiKeyOnly.acceptsWebhooks(.luma))
        #expect(!apiKeyOnly.callsAPI(.luma))

        let luma = PlatformAvailability(present: [.lumaWebhookSecret, .lumaAPIKey])
        #expect(luma.enabled == [.luma])
        #expect(luma.acceptsWebhooks(.luma) && luma.callsAPI(.luma))
    }

    /// Luma with one of its two credentials is disabled, and its one warning names the missing one.
    @Test(arguments: [
        (CredentialName.lumaWebhookSecret, CredentialName.lumaAPIKey),
        (CredentialName.lumaAPIKey, CredentialName.lumaWebhookSecret),
    ])
    func lumaWithOneCredentialIsDisabledNamingTheOther(present: CredentialName, missing: CredentialName) throws {
        let availability = PlatformAvailability(present: [present, .eventbriteToken, .meetupToken])
        #expect(!availability.isEnabled(.luma))
        try #require(availability.warnings.count == 1)
        let warning = try #require(availability.warnings.first)
        #expect(warning.platform == .luma)
        #expect(warning.message.contains("\(missing.rawValue) absent"))
        #expect(warning.message.contains("needs all of luma-webhook-secret and luma-api-key"))
    }

    @Test func oneWarningLinePerDisabledPlatform() {
        let lines = LineCollector()
        let logger = Logger(label: "test") { _ in lines.handler() }
        PlatformAvailability(present: [.meetupToken]).logWarnings(to: logger)
        let logged = lines.lines
        #expect(logged.count == 2)
        #expect(logged.allSatisfy { $0.level == .warning })
        #expect(logged.map(\.platform) == ["eventbrite", "luma"])
        #expect(logged[0].message.contains("eventbrite-token"))
        #expect(logged[1].message.contains("luma-webhook-secret, luma-api-key absent"))
    }
}
