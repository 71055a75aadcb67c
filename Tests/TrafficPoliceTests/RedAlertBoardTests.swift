import Foundation
import Testing
import TrafficPolice
import TrafficPoliceCore

/// The red-alert board the rebalancer posts to and the `STATUS=` line reads.
@Suite struct RedAlertBoardTests {
    @Test func anEventEntersOnceAndTheStatusNamesIt() throws {
        let board = RedAlertBoard()
        #expect(board.statusFragment == "")
        let first = try EventID("gig-b")
        let second = try EventID("gig-a")
        #expect(board.enter(first, at: Date(timeIntervalSince1970: 10)))
        #expect(!board.enter(first, at: Date(timeIntervalSince1970: 20)), "a second entry changes nothing")
        #expect(board.events[first] == Date(timeIntervalSince1970: 10))
        board.enter(second)
        #expect(board.statusFragment == "red_alert=gig-a,gig-b")
        board.leave(first)
        #expect(board.statusFragment == "red_alert=gig-a")
    }
}
