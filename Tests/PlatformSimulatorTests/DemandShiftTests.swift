import Testing

@testable import PlatformSimulator

/// `skew_after` / `shift_at`: the skew changes after a fraction of the buyers.
@Suite struct DemandShiftTests {
    func body(_ extra: [String: JSON]) -> JSON {
        var fields: [String: JSON] = [
            "events": ["eventbrite": "e", "luma": "evt-1", "meetup": "m"], "rate_per_second": 100, "total": 3000,
            "skew": ["eventbrite": 60, "luma": 30, "meetup": 10],
        ]
        fields.merge(extra) { $1 }
        return .object(fields)
    }

    func share(_ arrivals: ArraySlice<DemandArrival>, _ platform: Platform) -> Double {
        Double(arrivals.filter { $0.platform == platform }.count) / Double(arrivals.count)
    }

    @Test func skewShiftsAfterTheGivenFractionOfBuyers() throws {
        let spec = try DemandSpec.parse(body(["skew_after": ["eventbrite": 10, "luma": 30, "meetup": 60], "shift_at": 0.5]))
        #expect(spec.shiftAt == 0.5 && spec.skewAfter == [.eventbrite: 10, .luma: 30, .meetup: 60])
        let arrivals = Array(IteratorSequence(DemandSchedule(spec: spec, seed: 3)))
        #expect(arrivals.count == 3000)
        let before = arrivals[..<1500]
        let after = arrivals[1500...]
        #expect(abs(share(before, .eventbrite) - 0.6) < 0.05 && abs(share(before, .meetup) - 0.1) < 0.03)
        #expect(abs(share(after, .eventbrite) - 0.1) < 0.03 && abs(share(after, .meetup) - 0.6) < 0.05)
    }

    @Test func aPlatformWithoutWeightBeforeTheShiftSellsAfterIt() throws {
        let spec = try DemandSpec.parse(
            body(["skew": ["eventbrite": 1], "skew_after": ["meetup": 1], "shift_at": 0.25]))
        let arrivals = Array(IteratorSequence(DemandSchedule(spec: spec, seed: 5)))
        #expect(arrivals[..<750].allSatisfy { $0.platform == .eventbrite })
        #expect(arrivals[750...].allSatisfy { $0.platform == .meetup })
    }

    @Test func withoutAShiftTheArrivalsAreUnchanged() throws {
        let plain = try DemandSpec.parse(body([:]))
        #expect(plain.skewAfter == nil && plain.shiftAt == nil)
        let shifted = try DemandSpec.parse(body(["skew_after": ["meetup": 1], "shift_at": 0.5]))
        let a = Array(IteratorSequence(DemandSchedule(spec: plain, seed: 9)))
        let b = Array(IteratorSequence(DemandSchedule(spec: shifted, seed: 9)))
        #expect(a[..<1500] == b[..<1500] && a != b)
    }

    @Test(arguments: [
        ["shift_at": 0.5] as [String: JSON],
        ["skew_after": ["meetup": 1]],
        ["skew_after": ["meetup": 1], "shift_at": 0],
        ["skew_after": ["meetup": 1], "shift_at": 1],
        ["skew_after": ["meetup": 1], "shift_at": "half"],
        ["skew_after": ["myspace": 1], "shift_at": 0.5],
        ["skew_after": ["meetup": -1], "shift_at": 0.5],
        ["skew_after": 3, "shift_at": 0.5],
        ["skew_after": ["meetup": 1], "shift_at": 0.5, "total": nil],
    ])
    func invalidShiftsAreRefused(_ extra: [String: JSON]) {
        #expect(throws: ConfigurationError.self) { try DemandSpec.parse(body(extra)) }
    }
}
