import Foundation
import PlatformClients

// TEMPORARY until wip-integ lands `lastItemSeen`/`expandAttendees` in the client: delete on merge.
extension EventbriteClient {
    func allEventOrders(
        eventID: String, changedSince: Date?, lastItemSeen: String?, expandAttendees: Bool, maxPages: Int
    ) async throws -> [EventbriteOrder] {
        try await allEventOrders(eventID: eventID, changedSince: changedSince, maxPages: maxPages)
    }
}
