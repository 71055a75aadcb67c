import Crypto
import Foundation

/// Luma webhook deliveries as Luma sends them (platforms.md 2.2), signed with
/// `Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
struct LumaDelivery {
    var webhookID: String
    var type: String
    var guestID: String
    var eventID: String
    var tickets: Int
    var approvalStatus: String = "approved"

    var body: String {
        let tickets = (0..<tickets).map { n in
            #"{"id":"evtticket-\#(guestID)-\#(n)","event_ticket_type_id":"ttype-ga","name":"GA","amount":0,"amount_discount":0,"amount_tax":0,"currency":null,"checked_in_at":null,"is_captured":true}"#
        }.joined(separator: ",")
        return #"{"type":"\#(type)","data":{"id":"\#(guestID)","user_id":"usr-\#(guestID)","user_email":"\#(guestID)@example.com","user_name":"Guest","approval_status":"\#(approvalStatus)","registered_at":"2026-11-28T10:30:00.000Z","event_tickets":[\#(tickets)],"event_ticket_orders":[],"event":{"id":"\#(eventID)","calendar_id":"cal-test","name":"Test event"}}}"#
    }

    func headers(secret: String, timestamp: Int = Int(Date().timeIntervalSince1970), tamper: Bool = false) -> [(String, String)] {
        let key = SymmetricKey(data: Data(secret.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(timestamp).\(body)".utf8), using: key)
        var hex = mac.map { String(format: "%02x", $0) }.joined()
        if tamper { hex = String(hex.reversed()) }
        return [("Webhook-Id", webhookID), ("Webhook-Signature", "t=\(timestamp),v1=\(hex)")]
    }
}
