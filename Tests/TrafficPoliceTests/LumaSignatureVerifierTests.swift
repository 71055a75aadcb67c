import Foundation
import Testing
import TrafficPolice

@Suite("Luma signature verification")
struct LumaSignatureVerifierTests {
    let body = Array(LumaSigning.guestRegistered("gst-1").utf8)
    let t: Int64 = 1_760_000_000
    var text: String { String(decoding: body, as: UTF8.self) }

    func headers(_ pairs: [String: String]) -> (String) -> String? {
        { name in pairs.first { $0.key.lowercased() == name.lowercased() }?.value }
    }

    func at(_ seconds: Int64) -> Date { Date(timeIntervalSince1970: TimeInterval(seconds)) }

    @Test func acceptsAGoodSignatureAndReportsTheWebhookID() throws {
        let verifier = try LumaSignatureVerifier(secret: LumaSigning.secret)
        let signature = LumaSigning.timestamped(text, at: t)
        let verified = try verifier.verify(
            header: headers(["Webhook-Signature": signature, "Webhook-Id": "wh-1"]), body: body, now: at(t))
        #expect(verified.deliveryID == "wh-1")
        #expect(verified.timestamp == t)
        let withoutID = try verifier.verify(header: headers(["Webhook-Signature": signature]), body: body, now: at(t))
        #expect(withoutID.deliveryID == nil)
    }

    @Test func toleranceIsFiveMinutesEitherWayInclusive() throws {
        let verifier = try LumaSignatureVerifier(secret: LumaSigning.secret)
        let signed = headers(["Webhook-Signature": LumaSigning.timestamped(text, at: t)])
        _ = try verifier.verify(header: signed, body: body, now: at(t + 300))
        _ = try verifier.verify(header: signed, body: body, now: at(t - 300))
        #expect(throws: LumaSignatureError.timestampOutOfTolerance) {
            try verifier.verify(header: signed, body: body, now: at(t + 301))
        }
        #expect(throws: LumaSignatureError.timestampOutOfTolerance) {
            try verifier.verify(header: signed, body: body, now: at(t - 301))
        }
    }

    @Test func refusesTamperedBodiesTimestampsAndSecrets() throws {
        let verifier = try LumaSignatureVerifier(secret: LumaSigning.secret)
        let signature = LumaSigning.timestamped(text, at: t)
        var tampered = body
        tampered[tampered.count - 3] ^= 0x01
        #expect(throws: LumaSignatureError.signatureMismatch) {
            try verifier.verify(header: headers(["Webhook-Signature": signature]), body: tampered, now: at(t))
        }
        #expect(throws: LumaSignatureError.signatureMismatch) {
            try verifier.verify(header: headers(["Webhook-Signature": signature]), body: body + [0x20], now: at(t))
        }
        let movedTime = signature.replacingOccurrences(of: "t=\(t)", with: "t=\(t + 1)")
        #expect(throws: LumaSignatureError.signatureMismatch) {
            try verifier.verify(header: headers(["Webhook-Signature": movedTime]), body: body, now: at(t))
        }
        let otherSecret = LumaSigning.timestamped(text, secret: "whsec_other", at: t)
        #expect(throws: LumaSignatureError.signatureMismatch) {
            try verifier.verify(header: headers(["Webhook-Signature": otherSecret]), body: body, now: at(t))
        }
    }

    @Test func malformedOrMissingHeadersAreRefused() throws {
        let verifier = try LumaSignatureVerifier(secret: LumaSigning.secret)
        #expect(throws: LumaSignatureError.missingSignature) {
            try verifier.verify(header: headers([:]), body: body, now: at(t))
        }
        for bad in ["garbage", "t=abc,v1=00", "t=\(t)", "t=\(t),v1=zz", "v1=00ff", "t=-5,v1=00"] {
            #expect(throws: LumaSignatureError.malformedSignature, "\(bad)") {
                try verifier.verify(header: headers(["Webhook-Signature": bad]), body: body, now: at(t))
            }
        }
    }

    @Test func anyOfSeveralV1SignaturesMayMatch() throws {
        let verifier = try LumaSignatureVerifier(secret: LumaSigning.secret)
        let good = LumaSigning.timestamped(text, at: t)
        let mac = good.split(separator: ",")[1]
        let header = "t=\(t),v1=\(String(repeating: "0", count: 64)),\(mac)"
        _ = try verifier.verify(header: headers(["Webhook-Signature": header]), body: body, now: at(t))
    }

    @Test func standardWebhooksScheme() throws {
        let key: [UInt8] = Array("0123456789abcdef0123456789abcdef".utf8)
        let secret = "whsec_" + Data(key).base64EncodedString()
        let verifier = try LumaSignatureVerifier(secret: secret, scheme: .standardWebhooks)
        let signature = LumaSigning.standard(text, id: "msg_1", secretBytes: key, at: t)
        let good = headers(["webhook-id": "msg_1", "webhook-timestamp": "\(t)", "webhook-signature": "v1,Zm9v \(signature)"])
        let verified = try verifier.verify(header: good, body: body, now: at(t + 300))
        #expect(verified.deliveryID == "msg_1")
        #expect(throws: LumaSignatureError.timestampOutOfTolerance) {
            try verifier.verify(header: good, body: body, now: at(t + 301))
        }
        let otherID = headers(["webhook-id": "msg_2", "webhook-timestamp": "\(t)", "webhook-signature": signature])
        #expect(throws: LumaSignatureError.signatureMismatch) {
            try verifier.verify(header: otherID, body: body, now: at(t))
        }
        #expect(throws: LumaSignatureError.signatureMismatch) {
            try verifier.verify(header: good, body: body + [0x0A], now: at(t))
        }
        let noID = headers(["webhook-timestamp": "\(t)", "webhook-signature": signature])
        #expect(throws: LumaSignatureError.missingDeliveryID) {
            try verifier.verify(header: noID, body: body, now: at(t))
        }
        #expect(throws: LumaSignatureError.unusableSecret) {
            try LumaSignatureVerifier(secret: "whsec_!!not base64!!", scheme: .standardWebhooks)
        }
    }
}
