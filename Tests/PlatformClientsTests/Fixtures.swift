import CurlBridge
import PlatformClients
import Testing

/// Response bodies shaped like platforms.md and the specs' examples.
enum Fixtures {
    static func attendee(_ id: String, order: String = "1546689753", cancelled: Bool = false, refunded: Bool = false)
        -> String
    {
        """
        {"id":"\(id)","created":"2018-05-12T02:00:00Z","changed":"2018-05-12T02:05:00Z","ticket_class_id":"1405419289",
         "ticket_class_name":"General Admission","variant_id":null,"quantity":1,
         "costs":{"gross":{"currency":"USD","value":2000,"major_value":"20.00","display":"$20.00"}},
         "profile":{"name":"Ann Lee","email":"ann@example.com","first_name":"Ann","last_name":"Lee"},
         "barcodes":[{"barcode":"\(id)001","status":"\(refunded ? "refunded" : "unused")","created":"2018-05-12T02:00:00Z",
                      "changed":"2018-05-12T02:00:00Z","checkin_type":0,"is_printed":false}],
         "checked_in":false,"cancelled":\(cancelled),"refunded":\(refunded),
         "status":"\(cancelled || refunded ? "Not Attending" : "Attending")","event_id":"717926867587","order_id":"\(order)",
         "guestlist_id":null,"invited_by":null,"delivery_method":"electronic",
         "resource_uri":"https://www.eventbriteapi.com/v3/events/717926867587/attendees/\(id)/"}
        """
    }

    /// An order of 4 attendees: one refunded, one cancelled, so quantity 2.
    static let eventbriteOrder = """
        {"id":"1546689753","created":"2018-05-12T02:00:00Z","changed":"2018-05-12T02:05:00Z","name":"Ann Lee",
         "first_name":"Ann","last_name":"Lee","email":"ann@example.com",
         "costs":{"base_price":{"currency":"USD","value":8000,"major_value":"80.00","display":"$80.00"}},
         "event_id":"717926867587","time_remaining":null,
         "resource_uri":"https://www.eventbriteapi.com/v3/orders/1546689753/","status":"placed",
         "attendees":[\(attendee("2580559613")),\(attendee("2580559614")),\(attendee("2580559615", refunded: true)),
                      \(attendee("2580559616", cancelled: true))]}
        """

    static func attendeePage(ids: [String], continuation: String?, hasMore: Bool, page: Int) -> String {
        let token = continuation.map { "\"\($0)\"" } ?? "null"
        return """
            {"pagination":{"object_count":3,"continuation":\(token),"page_count":2,"page_size":2,
                           "has_more_items":\(hasMore),"page_number":\(page)},
             "attendees":[\(ids.map { attendee($0) }.joined(separator: ","))]}
            """
    }

    static let capacityTier = """
        {"event_id":"717926867587","quantity_pending":2,"quantity_sold":40,"quantity_total":100,"capacity_pending":2,
         "capacity_sold":40,"capacity_total":100,"capacity_is_custom":true,
         "holds":[{"id":"H1","name":"Marketing","quantity_total":10,"quantity_sold":0}]}
        """

    static let ticketClass = """
        {"resource_uri":"https://www.eventbriteapi.com/v3/events/717926867587/ticket_classes/1405419289/",
         "id":"1405419289","name":"General Admission","event_id":"717926867587","capacity":120,"quantity_total":120,
         "quantity_sold":33,"on_sale_status":"AVAILABLE","free":false,"hidden":false}
        """

    static func eventbriteError(_ code: String, _ description: String, _ status: Int) -> String {
        #"{"error":"\#(code)","error_description":"\#(description)","status_code":\#(status)}"#
    }

    static func lumaTicket(_ id: String) -> String {
        """
        {"id":"\(id)","amount":2500,"amount_discount":0,"amount_tax":0,"currency":"usd","checked_in_at":null,
         "event_ticket_type_id":"ttype-ga","is_captured":true,"name":"GA"}
        """
    }

    /// Three guests: approved with 3 tickets, declined with 1, waitlisted with none.
    static let lumaGuestPage = """
        {"entries":[
          {"id":"gst-abc","user_id":"usr-1","user_email":"ann@example.com","user_name":"Ann","user_first_name":"Ann",
           "user_last_name":null,"approval_status":"approved","check_in_qr_code":"https://luma.com/check-in/x",
           "eth_address":null,"invited_at":null,"joined_at":null,"phone_number":null,
           "registered_at":"2026-01-15T10:30:00.000Z","registration_answers":[],"solana_address":null,"utm_source":null,
           "event_tickets":[\(lumaTicket("tkt-1")),\(lumaTicket("tkt-2")),\(lumaTicket("tkt-3"))]},
          {"id":"gst-def","user_id":"usr-2","user_email":"bob@example.com","user_name":null,"approval_status":"declined",
           "registered_at":"2026-01-15T11:00:00.000Z","event_tickets":[\(lumaTicket("tkt-4"))],"brand_new_field":42},
          {"id":"gst-ghi","user_id":"usr-3","user_email":"cy@example.com","user_name":"Cy","approval_status":"waitlist",
           "registered_at":null,"event_tickets":[]}
         ],
         "has_more":true,"next_cursor":"cur+2/=="}
        """

    static let lumaEvent = """
        {"platform":"luma","id":"evt-123","user_id":"usr-host","calendar_id":"cal-1","start_at":"2026-03-01T18:00:00.000Z",
         "duration_interval":"PT2H","end_at":"2026-03-01T20:00:00.000Z","created_at":"2026-01-01T00:00:00.000Z",
         "timezone":"Europe/Berlin","name":"Launch","description":"","description_md":"","geo_address_json":null,
         "coordinate":null,"meeting_url":null,"location_type":"offline","location_visibility":"public",
         "cover_url":"https://images.lumacdn.com/x.png","url":"https://luma.com/launch","visibility":"public",
         "waitlist_status":"enabled","feedback_email":{"enabled":false},"hosts":[]}
        """

    static let lumaTicketTypes = """
        {"entries":[{"id":"ttype-ga","name":"GA","type":"free","max_capacity":100,"is_hidden":false},
                    {"id":"ttype-vip","name":"VIP","type":"paid","cents":5000,"currency":"usd","max_capacity":null}]}
        """

    static func meetupRsvp(_ id: String, _ status: String, guests: Int) -> String {
        """
        {"cursor":"\(id)c","node":{"id":"\(id)","status":"\(status)","guestsCount":\(guests),
         "updated":"2025-09-01T18:00:00-04:00","isHost":false,"payStatus":"NONE","member":{"id":"m\(id)","name":"Member \(id)"}}}
        """
    }

    static func meetupRsvpPage(edges: [String], hasNextPage: Bool, endCursor: String?) -> String {
        let cursor = endCursor.map { "\"\($0)\"" } ?? "null"
        return """
            {"data":{"event":{"id":"305123456","status":"ACTIVE","maxTickets":60,"waitlistMode":"AUTO",
              "rsvpSettings":{"rsvpOpenTime":null,"rsvpCloseTime":null,"rsvpsClosed":false},
              "rsvps":{"totalCount":4,"yesCount":2,"waitlistCount":1,"noCount":1,
                       "pageInfo":{"hasNextPage":\(hasNextPage),"endCursor":\(cursor)},
                       "edges":[\(edges.joined(separator: ","))]}}}}
            """
    }

    static let meetupRsvpPageOne = meetupRsvpPage(
        edges: [meetupRsvp("1", "YES", guests: 2), meetupRsvp("2", "WAITLIST", guests: 0), meetupRsvp("3", "NO", guests: 1),
                meetupRsvp("4", "YES", guests: 0)],
        hasNextPage: false, endCursor: "Mw==")

    static let meetupRateLimited = """
        {"errors":[{"message":"Too many requests, please try again shortly.","locations":[{"line":2,"column":3}],
                    "path":["event"],"extensions":{"code":"RATE_LIMITED","consumedPoints":574,
                    "resetAt":"2021-12-12T18:37:51.644Z"}}],
         "data":null}
        """

    static let meetupEditEventOK = #"{"data":{"editEvent":{"event":{"id":"305123456","maxTickets":42},"errors":[]}}}"#

    static let meetupEditEventPayloadError = """
        {"data":{"editEvent":{"event":null,"errors":[{"code":"INVALID_RSVP_LIMIT","field":"rsvpSettings.rsvpLimit",
         "message":"RSVP limit must not be negative"}]}}}
        """
}

/// A response with a JSON body.
func response(_ status: Int, _ body: String, headers: [(name: String, value: String)] = []) -> HTTPResponse {
    HTTPResponse(status: status, headers: headers, body: Array(body.utf8))
}

/// The `PlatformCallError` `body` throws; nil (with a recorded issue) when it returns or throws another error.
func callError<T>(_ body: () throws -> T) -> PlatformCallError? {
    callError(Result { try body() })
}

/// The async form of `callError`.
func callError<T>(_ body: () async throws -> T) async -> PlatformCallError? {
    do {
        return callError(Result<T, any Error>.success(try await body()))
    } catch {
        return callError(Result<T, any Error>.failure(error))
    }
}

private func callError<T>(_ result: Result<T, any Error>) -> PlatformCallError? {
    switch result {
    case .success(let value):
        Issue.record("expected a PlatformCallError, got \(value)")
    case .failure(let error as PlatformCallError):
        return error
    case .failure(let error):
        Issue.record("expected a PlatformCallError, got \(error)")
    }
    return nil
}
