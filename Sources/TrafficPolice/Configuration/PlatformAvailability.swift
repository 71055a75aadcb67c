import Logging
import TrafficPoliceCore

/// Which platforms the present credentials enable (DESIGN.md section 6). A disabled platform's
/// webhooks answer 503 and nothing is sent to it; that is a warning, not a configuration error.
///
/// - eventbrite needs `eventbrite-token` (its webhooks are hints re-read through the API);
/// - luma needs `luma-webhook-secret`; without `luma-api-key` it accepts webhooks but makes no
///   API calls (no capacity pushes, no guest reads);
/// - meetup needs `meetup-token` (it is polled; it sends no webhooks).
public struct PlatformAvailability: Sendable, Hashable {
    /// The credentials that were present.
    public var present: Set<CredentialName>

    public init(present: Set<CredentialName>) { self.present = present }

    /// The credentials `platform` cannot be enabled without.
    public static func required(for platform: Platform) -> [CredentialName] {
        switch platform {
        case .eventbrite: [.eventbriteToken]
        case .luma: [.lumaWebhookSecret]
        case .meetup: [.meetupToken]
        }
    }

    /// Whether `platform` takes part at all (webhooks accepted or RSVPs polled, capacity published).
    public func isEnabled(_ platform: Platform) -> Bool {
        Self.required(for: platform).allSatisfy(present.contains)
    }

    /// Whether intake accepts `platform`'s webhooks (Meetup sends none).
    public func acceptsWebhooks(_ platform: Platform) -> Bool {
        platform != .meetup && isEnabled(platform)
    }

    /// Whether anything may call `platform`'s API (reads, capacity pushes, closes).
    public func callsAPI(_ platform: Platform) -> Bool {
        switch platform {
        case .eventbrite: isEnabled(.eventbrite)
        case .luma: isEnabled(.luma) && present.contains(.lumaAPIKey)
        case .meetup: isEnabled(.meetup)
        }
    }

    /// The enabled platforms, in order.
    public var enabled: [Platform] { Platform.allCases.filter(isEnabled) }

    /// One line per platform that is disabled or limited, naming the missing credentials; empty when
    /// everything is enabled. Never contains a credential's value.
    public var warnings: [(platform: Platform, message: String)] {
        Platform.allCases.compactMap { platform in
            let missing = Self.required(for: platform).filter { !present.contains($0) }
            if !missing.isEmpty {
                let names = missing.map(\.rawValue).joined(separator: ", ")
                return (platform, "platform \(platform.rawValue) disabled: credential \(names) absent "
                    + "(its webhooks answer 503 and nothing is sent to it)")
            }
            if platform == .luma, !present.contains(.lumaAPIKey) {
                return (platform, "platform luma: credential luma-api-key absent; webhooks are accepted "
                    + "but no Luma API calls are made (no capacity pushes, no guest reads)")
            }
            return nil
        }
    }

    /// Logs `warnings` at warning level, one line each, with `platform` metadata.
    public func logWarnings(to logger: Logger) {
        for warning in warnings {
            logger.warning("\(warning.message)", metadata: ["platform": "\(warning.platform.rawValue)"])
        }
    }
}
