import Crypto
import Foundation
import NIOCore
import NIOHTTP1

/// One pre-signed `POST /webhooks/luma`: its head (unique `Webhook-Id`, `Webhook-Signature`) and body.
struct IntakeRequest: Sendable {
    let head: HTTPRequestHead
    let body: ByteBuffer
}

/// Builds signed Luma deliveries before the timed part: one HMAC per request, unique ids.
enum IntakeRequests {
    /// `count` `guest.registered` deliveries for `eventID`, guest and delivery ids derived from `run`.
    static func make(count: Int, run: String, secret: String, eventID: String, tickets: Int) -> [IntakeRequest] {
        let key = SymmetricKey(data: Data(secret.utf8))
        let timestamp = Int(Date().timeIntervalSince1970)
        return (0..<count).map { n in
            let body = lumaBody(guestID: "gst-\(run)-\(n)", eventID: eventID, tickets: tickets)
            let mac = HMAC<SHA256>.authenticationCode(for: Data("\(timestamp).\(body)".utf8), using: key)
            var headers = HTTPHeaders()
            headers.add(name: "Host", value: "localhost")
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: String(body.utf8.count))
            headers.add(name: "Webhook-Id", value: "wh-\(run)-\(n)")
            headers.add(name: "Webhook-Signature", value: "t=\(timestamp),v1=\(hex(mac))")
            let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/webhooks/luma", headers: headers)
            return IntakeRequest(head: head, body: ByteBuffer(string: body))
        }
    }

    /// The payload of `Tests/DaemonTests/LumaDelivery.swift` (and of the bullmq peer).
    static func lumaBody(guestID: String, eventID: String, tickets: Int) -> String {
        let list = (0..<tickets).map { n in
            #"{"id":"evtticket-\#(guestID)-\#(n)","event_ticket_type_id":"ttype-ga","name":"GA","amount":0,"amount_discount":0,"amount_tax":0,"currency":null,"checked_in_at":null,"is_captured":true}"#
        }.joined(separator: ",")
        return #"{"type":"guest.registered","data":{"id":"\#(guestID)","user_id":"usr-\#(guestID)","user_email":"\#(guestID)@example.com","user_name":"Guest","approval_status":"approved","registered_at":"2026-11-28T10:30:00.000Z","event_tickets":[\#(list)],"event_ticket_orders":[],"event":{"id":"\#(eventID)","calendar_id":"cal-test","name":"Test event"}}}"#
    }

    private static let digits = Array("0123456789abcdef".utf8)

    private static func hex(_ mac: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        for byte in mac { out.append(digits[Int(byte >> 4)]); out.append(digits[Int(byte & 0x0f)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
