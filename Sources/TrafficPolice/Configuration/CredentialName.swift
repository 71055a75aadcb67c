/// The systemd credentials the daemon reads (`LoadCredential=` names, files in `$CREDENTIALS_DIRECTORY`).
public enum CredentialName: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Eventbrite private token: reads orders (a webhook is only a hint) and publishes capacity.
    case eventbriteToken = "eventbrite-token"
    /// Optional: the unpublished path segment Eventbrite webhooks must carry
    /// (`POST /webhooks/eventbrite/<secret>`); Eventbrite signs nothing, so the URL is the secret.
    case eventbriteWebhookSecret = "eventbrite-webhook-secret"
    /// Luma API key (`x-luma-api-key`): reads guests and publishes capacity.
    case lumaAPIKey = "luma-api-key"
    /// Luma webhook signing secret (`whsec_…`).
    case lumaWebhookSecret = "luma-webhook-secret"
    /// Meetup OAuth bearer token: polls RSVPs and edits the event.
    case meetupToken = "meetup-token"

    /// The development fallback variable: `TRAFFIC_POLICE_CREDENTIAL_` + the name in upper case
    /// with `-` as `_` (e.g. `TRAFFIC_POLICE_CREDENTIAL_LUMA_WEBHOOK_SECRET`).
    public var environmentName: String {
        "TRAFFIC_POLICE_CREDENTIAL_" + rawValue.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    public var description: String { rawValue }
}
