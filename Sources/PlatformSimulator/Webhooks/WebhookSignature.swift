import Crypto
import Foundation

/// Luma webhook signatures (platforms.md 2.2): the default `luma-v1` scheme and Standard Webhooks.
public enum WebhookSignature {
    /// `t=<unix s>,v1=<hex HMAC-SHA256(secret as UTF-8, "<t>.<raw body>")>`.
    public static func lumaV1(secret: String, timestamp: Int, body: [UInt8]) -> String {
        let key = SymmetricKey(data: Array(secret.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(timestamp).".utf8) + body, using: key)
        return "t=\(timestamp),v1=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    /// Standard Webhooks: `v1,<base64 HMAC-SHA256(base64-decoded part after "whsec_", "<id>.<ts>.<body>")>`.
    /// A secret that does not decode as base64 is used as its UTF-8 bytes.
    public static func standard(secret: String, id: String, timestamp: Int, body: [UInt8]) -> String {
        let encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst("whsec_".count)) : secret
        let keyBytes = Data(base64Encoded: encoded).map(Array.init) ?? Array(encoded.utf8)
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array("\(id).\(timestamp).".utf8) + body, using: SymmetricKey(data: keyBytes))
        return "v1," + Data(mac).base64EncodedString()
    }

    /// The headers of one Luma delivery under `scheme` (`luma-v1` or `standard`).
    public static func headers(
        scheme: String, secret: String, id: String, timestamp: Int, body: [UInt8]
    ) -> [(String, String)] {
        if scheme == "standard" {
            return [
                ("webhook-id", id), ("webhook-timestamp", String(timestamp)),
                ("webhook-signature", standard(secret: secret, id: id, timestamp: timestamp, body: body)),
            ]
        }
        return [("Webhook-Id", id), ("Webhook-Signature", lumaV1(secret: secret, timestamp: timestamp, body: body))]
    }
}
