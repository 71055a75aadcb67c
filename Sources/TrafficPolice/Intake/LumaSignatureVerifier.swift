import Crypto
import Foundation

/// Checks that a Luma webhook delivery was signed with the webhook's secret (platforms.md 2.2).
///
/// A pure value: the time is passed in, so the tolerance edges are testable.
/// - `.timestamped` (default): `Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret as
///   UTF-8, "<t>.<raw body>")>`; the delivery id is the `Webhook-Id` header, if any.
/// - `.standardWebhooks`: `webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64>`
///   over `"<id>.<timestamp>.<raw body>"`, keyed by the base64 secret after its `whsec_` prefix.
public struct LumaSignatureVerifier: Sendable {
    /// Which signing convention the deliveries follow.
    public enum Scheme: String, Sendable, Hashable, CaseIterable {
        case timestamped
        case standardWebhooks = "standard-webhooks"
    }

    /// What a verified delivery carries besides its body.
    public struct Verified: Sendable, Hashable {
        /// `Webhook-Id` (required by Standard Webhooks, optional in the timestamped scheme).
        public var deliveryID: String?
        /// The signed timestamp, in Unix seconds.
        public var timestamp: Int64
    }

    public let scheme: Scheme
    /// Accepted distance between the signed timestamp and now, either way. Default 5 minutes.
    public let tolerance: Duration
    /// The HMAC key bytes (SymmetricKey is not Sendable, so it is built per check).
    private let keyBytes: [UInt8]

    /// Fails only for a Standard Webhooks secret that is not base64 (with or without `whsec_`).
    public init(secret: String, scheme: Scheme = .timestamped, tolerance: Duration = .seconds(300)) throws {
        self.scheme = scheme
        self.tolerance = tolerance
        switch scheme {
        case .timestamped:
            self.keyBytes = Array(secret.utf8)
        case .standardWebhooks:
            let encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst("whsec_".count)) : secret
            guard let decoded = Data(base64Encoded: encoded), !decoded.isEmpty else {
                throw LumaSignatureError.unusableSecret
            }
            self.keyBytes = Array(decoded)
        }
    }

    /// Verifies a delivery; `header` looks a header up by name (case-insensitively).
    public func verify(header: (String) -> String?, body: [UInt8], now: Date) throws(LumaSignatureError) -> Verified {
        switch scheme {
        case .timestamped: return try verifyTimestamped(header: header, body: body, now: now)
        case .standardWebhooks: return try verifyStandard(header: header, body: body, now: now)
        }
    }

    private func verifyTimestamped(header: (String) -> String?, body: [UInt8], now: Date) throws(LumaSignatureError)
        -> Verified
    {
        guard let value = header("webhook-signature"), !value.isEmpty else { throw .missingSignature }
        var timestampText: String? = nil
        var signatures: [[UInt8]] = []
        for field in value.split(separator: ",") {
            let pair = field.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { throw .malformedSignature }
            let name = pair[0].trimmingASCIISpaces
            let content = pair[1].trimmingASCIISpaces
            switch name {
            case "t": timestampText = content
            case "v1":
                guard let bytes = Self.hexBytes(content) else { throw .malformedSignature }
                signatures.append(bytes)
            default: continue  // other versions are ignored, as the scheme allows
            }
        }
        guard let timestampText, let timestamp = Self.seconds(timestampText), !signatures.isEmpty else {
            throw .malformedSignature
        }
        try checkTolerance(timestamp, now: now)
        guard matches(signatures, prefix: "\(timestampText).", body: body) else { throw .signatureMismatch }
        return Verified(deliveryID: header("webhook-id").flatMap { $0.isEmpty ? nil : $0 }, timestamp: timestamp)
    }

    private func verifyStandard(header: (String) -> String?, body: [UInt8], now: Date) throws(LumaSignatureError)
        -> Verified
    {
        guard let value = header("webhook-signature"), !value.isEmpty else { throw .missingSignature }
        guard let id = header("webhook-id"), !id.isEmpty else { throw .missingDeliveryID }
        guard let timestampText = header("webhook-timestamp"), let timestamp = Self.seconds(timestampText) else {
            throw .malformedSignature
        }
        var signatures: [[UInt8]] = []
        for entry in value.split(separator: " ") {
            let pair = entry.split(separator: ",", maxSplits: 1)
            guard pair.count == 2 else { throw .malformedSignature }
            guard pair[0] == "v1" else { continue }
            guard let bytes = Data(base64Encoded: String(pair[1])) else { throw .malformedSignature }
            signatures.append(Array(bytes))
        }
        guard !signatures.isEmpty else { throw .malformedSignature }
        try checkTolerance(timestamp, now: now)
        guard matches(signatures, prefix: "\(id).\(timestampText).", body: body) else { throw .signatureMismatch }
        return Verified(deliveryID: id, timestamp: timestamp)
    }

    /// Whether one of `signatures` is the HMAC of `prefix` followed by `body` (computed once,
    /// without copying the body; compared in constant time).
    private func matches(_ signatures: [[UInt8]], prefix: String, body: [UInt8]) -> Bool {
        var mac = HMAC<SHA256>(key: SymmetricKey(data: keyBytes))
        mac.update(data: Array(prefix.utf8))
        mac.update(data: body)
        let expected = mac.finalize()
        return signatures.contains { expected == $0 }
    }

    private func checkTolerance(_ timestamp: Int64, now: Date) throws(LumaSignatureError) {
        let nowSeconds = now.timeIntervalSince1970
        let limit = Double(tolerance.components.seconds) + Double(tolerance.components.attoseconds) / 1e18
        guard abs(nowSeconds - Double(timestamp)) <= limit else { throw .timestampOutOfTolerance }
    }

    /// Decimal Unix seconds, digits only (no sign, no spaces), at most 12 digits.
    private static func seconds(_ text: String) -> Int64? {
        guard !text.isEmpty, text.count <= 12, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int64(text)
    }

    private static func hexBytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard !digits.isEmpty, digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = hexValue(digits[index]), let low = hexValue(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case 0x30...0x39: digit - 0x30
        case 0x61...0x66: digit - 0x61 + 10
        case 0x41...0x46: digit - 0x41 + 10
        default: nil
        }
    }
}

/// Why a Luma delivery was not accepted as signed (each is answered 401).
public enum LumaSignatureError: Error, Sendable, Hashable, CustomStringConvertible {
    case missingSignature
    case malformedSignature
    case missingDeliveryID
    case timestampOutOfTolerance
    case signatureMismatch
    /// Configuration: a Standard Webhooks secret that is not base64.
    case unusableSecret

    /// The `error` code of the JSON answer, and the metrics label.
    public var code: String {
        switch self {
        case .missingSignature: "missing_signature"
        case .malformedSignature: "malformed_signature"
        case .missingDeliveryID: "missing_webhook_id"
        case .timestampOutOfTolerance: "timestamp_out_of_tolerance"
        case .signatureMismatch: "bad_signature"
        case .unusableSecret: "unusable_secret"
        }
    }

    public var description: String {
        switch self {
        case .missingSignature: "the Webhook-Signature header is missing"
        case .malformedSignature: "the signature headers are malformed"
        case .missingDeliveryID: "the webhook-id header is missing"
        case .timestampOutOfTolerance: "the signed timestamp is too far from now"
        case .signatureMismatch: "the signature does not match the body"
        case .unusableSecret: "the Luma webhook secret is not valid base64 after its whsec_ prefix"
        }
    }
}
