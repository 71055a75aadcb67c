/// Every knob of the simulator with its default. Set from `--config FILE` and `POST /control/config`
/// (the same JSON shape, any subset of keys; `GET /control/config` prints the whole of it).
public struct SimulatorConfiguration: Sendable, Equatable {
    /// Where a platform's webhooks go: a Unix socket (then `path` is the HTTP path) or loopback TCP.
    public struct WebhookTarget: Sendable, Equatable {
        public var unixSocket: String?
        public var host = "127.0.0.1"
        public var port = 0
        public var path: String

        public init(unixSocket: String, path: String) {
            self.unixSocket = unixSocket
            self.path = path
        }

        public init(host: String = "127.0.0.1", port: Int, path: String) {
            self.host = host
            self.port = port
            self.path = path
        }

        var json: JSON {
            if let unixSocket { return ["unix_socket": .string(unixSocket), "path": .string(path)] }
            return ["url": .string("http://\(host):\(port)\(path)")]
        }

        /// `{"url":"http://127.0.0.1:P/path"}` or `{"unix_socket":"/x.sock","path":"/webhooks/luma"}`.
        static func parse(_ json: JSON, defaultPath: String) throws -> WebhookTarget? {
            if json.isNull { return nil }
            if let socket = json["unix_socket"]?.stringValue {
                return WebhookTarget(unixSocket: socket, path: json["path"]?.stringValue ?? defaultPath)
            }
            guard let url = json["url"]?.stringValue ?? json.stringValue, url.hasPrefix("http://") else {
                throw ConfigurationError("a webhook target is {\"url\":\"http://127.0.0.1:PORT/PATH\"} or {\"unix_socket\":PATH,\"path\":HTTP_PATH}")
            }
            let rest = url.dropFirst("http://".count)
            let authority = rest.prefix { $0 != "/" }
            let path = rest.dropFirst(authority.count)
            let hostPort = authority.split(separator: ":")
            guard hostPort.count == 2, let port = Int(hostPort[1]), hostPort[0] == "127.0.0.1" || hostPort[0] == "localhost"
            else { throw ConfigurationError("webhook URLs must be http://127.0.0.1:PORT/... (loopback only)") }
            return WebhookTarget(host: "127.0.0.1", port: port, path: path.isEmpty ? defaultPath : String(path))
        }
    }

    // Eventbrite
    public var eventbriteCallsPerWindow = 2000
    public var eventbriteWindowSeconds = 3600.0
    public var eventbritePageSize = 50
    public var eventbriteReadLagMs = 0
    /// `Retry-After` on 429 (seconds); nil = omitted, as the docs show none.
    public var eventbriteRetryAfterSeconds: Int?
    public var eventbriteWebhook: WebhookTarget?
    // Luma
    public var lumaRequestsPerWindow = 200
    public var lumaWindowSeconds = 60.0
    public var lumaBlockSeconds = 60.0
    public var lumaMaxPageSize = 100
    public var lumaWebhookSecret = "whsec_test"
    /// `luma-v1` or `standard`.
    public var lumaSignatureScheme = "luma-v1"
    public var lumaWebhook: WebhookTarget?
    // Meetup
    public var meetupPointsPerWindow = 500
    public var meetupWindowSeconds = 60.0
    public var meetupCosts = MeetupCostModel()
    public var meetupMaxPageSize = 200
    // Webhook delivery (Eventbrite and Luma)
    public var webhookDelayMinMs = 0
    public var webhookDelayMaxMs = 0
    public var webhookDuplicateProbability = 0.0
    public var webhookDropProbability = 0.0
    public var webhookRetries = 3
    public var webhookRetryBackoffMs = 200
    public var webhookMaxConcurrency = 8
    public var webhookTimeoutMs = 2000
    // Accepted credentials
    public var eventbriteTokens: Set<String> = ["eb-token"]
    public var lumaKeys: Set<String> = ["luma-key"]
    public var meetupTokens: Set<String> = ["meetup-token"]

    public init() {}

    /// The whole configuration as `GET /control/config` prints it.
    public var json: JSON {
        [
            "eventbrite": [
                "calls_per_window": .int(eventbriteCallsPerWindow), "window_seconds": .double(eventbriteWindowSeconds),
                "page_size": .int(eventbritePageSize), "read_lag_ms": .int(eventbriteReadLagMs),
                "retry_after_seconds": .optional(eventbriteRetryAfterSeconds),
                "webhook": eventbriteWebhook?.json ?? .null,
            ],
            "luma": [
                "requests_per_window": .int(lumaRequestsPerWindow), "window_seconds": .double(lumaWindowSeconds),
                "block_seconds": .double(lumaBlockSeconds), "max_page_size": .int(lumaMaxPageSize),
                "webhook_secret": .string(lumaWebhookSecret), "signature_scheme": .string(lumaSignatureScheme),
                "webhook": lumaWebhook?.json ?? .null,
            ],
            "meetup": [
                "points_per_window": .int(meetupPointsPerWindow), "window_seconds": .double(meetupWindowSeconds),
                "cost_per_request": .int(meetupCosts.perRequest), "cost_per_node": .int(meetupCosts.perNode),
                "cost_per_mutation": .int(meetupCosts.perMutation), "max_page_size": .int(meetupMaxPageSize),
            ],
            "webhooks": [
                "delay_ms": ["min": .int(webhookDelayMinMs), "max": .int(webhookDelayMaxMs)],
                "duplicate_probability": .double(webhookDuplicateProbability),
                "drop_probability": .double(webhookDropProbability), "retries": .int(webhookRetries),
                "retry_backoff_ms": .int(webhookRetryBackoffMs), "max_concurrency": .int(webhookMaxConcurrency),
                "timeout_ms": .int(webhookTimeoutMs),
            ],
            "credentials": [
                "eventbrite": .array(eventbriteTokens.sorted().map(JSON.string)),
                "luma": .array(lumaKeys.sorted().map(JSON.string)),
                "meetup": .array(meetupTokens.sorted().map(JSON.string)),
            ],
        ]
    }

    /// Applies the keys present in `patch` (same shape as `json`); unknown keys are an error.
    public mutating func apply(_ patch: JSON) throws {
        guard let sections = patch.objectValue else { throw ConfigurationError("the configuration must be a JSON object") }
        var copy = self
        for (section, value) in sections {
            let reader = try ConfigurationReader(section: section, value)
            switch section {
            case "eventbrite":
                try reader.allow(["calls_per_window", "window_seconds", "page_size", "read_lag_ms", "retry_after_seconds", "webhook"])
                try reader.int("calls_per_window", min: 1) { copy.eventbriteCallsPerWindow = $0 }
                try reader.double("window_seconds", min: 0.001) { copy.eventbriteWindowSeconds = $0 }
                try reader.int("page_size", min: 1) { copy.eventbritePageSize = $0 }
                try reader.int("read_lag_ms", min: 0) { copy.eventbriteReadLagMs = $0 }
                try reader.optionalInt("retry_after_seconds") { copy.eventbriteRetryAfterSeconds = $0 }
                if let target = reader.members["webhook"] {
                    copy.eventbriteWebhook = try WebhookTarget.parse(target, defaultPath: "/webhooks/eventbrite")
                }
            case "luma":
                try reader.allow(["requests_per_window", "window_seconds", "block_seconds", "max_page_size", "webhook_secret", "signature_scheme", "webhook"])
                try reader.int("requests_per_window", min: 1) { copy.lumaRequestsPerWindow = $0 }
                try reader.double("window_seconds", min: 0.001) { copy.lumaWindowSeconds = $0 }
                try reader.double("block_seconds", min: 0) { copy.lumaBlockSeconds = $0 }
                try reader.int("max_page_size", min: 1) { copy.lumaMaxPageSize = $0 }
                try reader.string("webhook_secret") { copy.lumaWebhookSecret = $0 }
                try reader.string("signature_scheme") { scheme in
                    guard scheme == "luma-v1" || scheme == "standard" else {
                        throw ConfigurationError("luma.signature_scheme is luma-v1 or standard")
                    }
                    copy.lumaSignatureScheme = scheme
                }
                if let target = reader.members["webhook"] {
                    copy.lumaWebhook = try WebhookTarget.parse(target, defaultPath: "/webhooks/luma")
                }
            case "meetup":
                try reader.allow(["points_per_window", "window_seconds", "cost_per_request", "cost_per_node", "cost_per_mutation", "max_page_size"])
                try reader.int("points_per_window", min: 1) { copy.meetupPointsPerWindow = $0 }
                try reader.double("window_seconds", min: 0.001) { copy.meetupWindowSeconds = $0 }
                try reader.int("cost_per_request", min: 0) { copy.meetupCosts.perRequest = $0 }
                try reader.int("cost_per_node", min: 0) { copy.meetupCosts.perNode = $0 }
                try reader.int("cost_per_mutation", min: 0) { copy.meetupCosts.perMutation = $0 }
                try reader.int("max_page_size", min: 1) { copy.meetupMaxPageSize = $0 }
            case "webhooks":
                try reader.allow(["delay_ms", "duplicate_probability", "drop_probability", "retries", "retry_backoff_ms", "max_concurrency", "timeout_ms"])
                if let delay = reader.members["delay_ms"] {
                    let range = try ConfigurationReader(section: "webhooks.delay_ms", delay)
                    try range.allow(["min", "max"])
                    try range.int("min", min: 0) { copy.webhookDelayMinMs = $0 }
                    try range.int("max", min: 0) { copy.webhookDelayMaxMs = $0 }
                }
                try reader.double("duplicate_probability", min: 0, max: 1) { copy.webhookDuplicateProbability = $0 }
                try reader.double("drop_probability", min: 0, max: 1) { copy.webhookDropProbability = $0 }
                try reader.int("retries", min: 0) { copy.webhookRetries = $0 }
                try reader.int("retry_backoff_ms", min: 0) { copy.webhookRetryBackoffMs = $0 }
                try reader.int("max_concurrency", min: 1) { copy.webhookMaxConcurrency = $0 }
                try reader.int("timeout_ms", min: 1) { copy.webhookTimeoutMs = $0 }
            case "credentials":
                try copy.applyCredentials(value)
            default:
                throw ConfigurationError("unknown section \"\(section)\" (eventbrite, luma, meetup, webhooks, credentials)")
            }
        }
        guard copy.webhookDelayMinMs <= copy.webhookDelayMaxMs else {
            throw ConfigurationError("webhooks.delay_ms.min must not exceed max")
        }
        self = copy
    }

    /// `{"eventbrite": ["t1"], "luma": ["k1"], "meetup": ["t2"]}` (a string is one credential); replaces per platform.
    public mutating func applyCredentials(_ value: JSON) throws {
        let reader = try ConfigurationReader(section: "credentials", value)
        try reader.allow(["eventbrite", "luma", "meetup"])
        func list(_ key: String) throws -> Set<String>? {
            guard let value = reader.members[key] else { return nil }
            if let one = value.stringValue { return [one] }
            guard let items = value.arrayValue?.compactMap(\.stringValue), items.count == value.arrayValue?.count else {
                throw ConfigurationError("credentials.\(key) is a string or an array of strings")
            }
            return Set(items)
        }
        if let tokens = try list("eventbrite") { eventbriteTokens = tokens }
        if let keys = try list("luma") { lumaKeys = keys }
        if let tokens = try list("meetup") { meetupTokens = tokens }
    }
}

/// A rejected configuration, with the reason.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// Typed reads of one configuration section.
private struct ConfigurationReader {
    var section: String
    var members: [String: JSON]

    init(section: String, _ value: JSON) throws {
        guard let members = value.objectValue else { throw ConfigurationError("\(section) must be a JSON object") }
        self.section = section
        self.members = members
    }

    func allow(_ keys: Set<String>) throws {
        if let unknown = members.keys.sorted().first(where: { !keys.contains($0) }) {
            throw ConfigurationError("unknown key \(section).\(unknown) (known: \(keys.sorted().joined(separator: ", ")))")
        }
    }

    func int(_ key: String, min: Int, _ set: (Int) throws -> Void) throws {
        guard let value = members[key] else { return }
        guard let number = value.intValue, number >= min else { throw ConfigurationError("\(section).\(key) must be an integer ≥ \(min)") }
        try set(number)
    }

    func optionalInt(_ key: String, _ set: (Int?) -> Void) throws {
        guard let value = members[key] else { return }
        if value.isNull { return set(nil) }
        guard let number = value.intValue, number >= 0 else { throw ConfigurationError("\(section).\(key) must be an integer ≥ 0 or null") }
        set(number)
    }

    func double(_ key: String, min: Double, max: Double = .infinity, _ set: (Double) -> Void) throws {
        guard let value = members[key] else { return }
        guard let number = value.doubleValue, number >= min, number <= max else {
            throw ConfigurationError("\(section).\(key) must be a number in [\(min), \(max)]")
        }
        set(number)
    }

    func string(_ key: String, _ set: (String) throws -> Void) throws {
        guard let value = members[key] else { return }
        guard let text = value.stringValue else { throw ConfigurationError("\(section).\(key) must be a string") }
        try set(text)
    }
}
