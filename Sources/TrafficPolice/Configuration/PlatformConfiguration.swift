import Foundation
import TrafficPoliceCore

extension TrafficPoliceConfiguration {
    /// `[platforms.*]`: where each platform's API lives. Tokens and secrets are credentials
    /// (`Credentials`), never configuration.
    public struct Platforms: Sendable, Hashable {
        public var eventbrite: Eventbrite
        public var luma: Luma
        public var meetup: Meetup

        /// The throttler's budget for `platform` (`[platforms.*]` limit and `rate_margin_percent`).
        public func budget(_ platform: Platform) -> Budget {
            switch platform {
            case .eventbrite: eventbrite.budget
            case .luma: luma.budget
            case .meetup: meetup.budget
            }
        }

        /// The API root of `platform`.
        public func baseURL(_ platform: Platform) -> URL {
            switch platform {
            case .eventbrite: eventbrite.baseURL
            case .luma: luma.baseURL
            case .meetup: meetup.baseURL
            }
        }
    }

    /// `[platforms.eventbrite]`.
    public struct Eventbrite: Sendable, Hashable {
        /// `base_url`: default `https://www.eventbriteapi.com/v3`; an `api_url` in a webhook is fetched
        /// only when it lies under this root. The webhook path secret is the credential
        /// `eventbrite-webhook-secret`, not a key here.
        public var baseURL: URL
        /// `calls_per_hour` (default 2000, per token) taken at `rate_margin_percent` (default 90).
        public var budget: Budget
        /// `catch_up_interval_ms`: with no delivery waiting, each linked event's new orders are still
        /// read this often (orders whose webhook was lost). Default 60 s.
        public var catchUpInterval: Duration
    }

    /// `[platforms.luma]`.
    public struct Luma: Sendable, Hashable {
        /// `base_url`: default `https://public-api.luma.com`.
        public var baseURL: URL
        /// `signature_scheme`: how webhook signatures are checked. Default `luma`.
        public var signatureScheme: LumaSignatureScheme
        /// `requests_per_minute` (default 200, per calendar key) at `rate_margin_percent` (default 90).
        public var budget: Budget
        /// `sweep_interval_ms`: how often every guest of every linked event is re-read to catch lost
        /// webhooks. Default 5 min.
        public var sweepInterval: Duration
    }

    /// `[platforms.meetup]`.
    public struct Meetup: Sendable, Hashable {
        /// `base_url`: the GraphQL endpoint itself; default `https://api.meetup.com/gql-ext`.
        public var baseURL: URL
        /// `points_per_minute` (default 500, per token; DESIGN.md's cost model) at
        /// `rate_margin_percent` (default 80).
        public var budget: Budget
        /// `idle_poll_interval_ms`: an event with no RSVP activity is still polled this often (busy
        /// ones more often, within three quarters of the points budget). Default 30 s.
        public var idlePollInterval: Duration
    }
}

/// How Luma webhook signatures are verified (`[platforms.luma] signature_scheme`).
public enum LumaSignatureScheme: String, Sendable, Hashable, CaseIterable {
    /// `Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, id in `Webhook-Id`.
    case luma
    /// Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>` over
    /// `id.timestamp.body` with the base64-decoded `whsec_` key.
    case standardWebhooks = "standard-webhooks"
}
