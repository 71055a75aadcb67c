import PropertyBased
import Testing
import TrafficPoliceCore

@Suite struct AllocationSplitTests {
    @Test func equalSplitPlacesTheRemainderOnTheFirstPlatforms() {
        #expect(AllocationSplit.equal.allocate(900) == [.eventbrite: 300, .luma: 300, .meetup: 300])
        #expect(AllocationSplit.equal.allocate(902) == [.eventbrite: 301, .luma: 301, .meetup: 300])
        #expect(AllocationSplit.equal.allocate(1) == [.eventbrite: 1, .luma: 0, .meetup: 0])
        #expect(AllocationSplit.equal.allocate(0) == [.eventbrite: 0, .luma: 0, .meetup: 0])
    }

    @Test func weightedSplit() throws {
        let split = try AllocationSplit(parsing: "eventbrite=6,luma=3,meetup=1")
        #expect(split.allocate(900) == [.eventbrite: 540, .luma: 270, .meetup: 90])
        let decimals = try AllocationSplit(parsing: "eventbrite=0.6, luma=0.3 ,meetup=0.1")
        #expect(decimals.allocate(900) == split.allocate(900))
        let partial = try AllocationSplit(parsing: "luma=1")
        #expect(partial.allocate(90) == [.eventbrite: 0, .luma: 90, .meetup: 0])
    }

    @Test(arguments: [
        "", "eventbrite", "eventbrite=1,eventbrite=2", "facebook=1", "eventbrite=-1", "eventbrite=0,luma=0",
        "eventbrite=abc", "eventbrite=1,,luma=1", "eventbrite=10000", "eventbrite=1.1234567",
    ])
    func refusesBadSplits(text: String) {
        #expect(throws: DomainError.self) { try AllocationSplit(parsing: text) }
    }

    /// The parts always sum to the total, and each is within one ticket of its exact share.
    @Test func allocationsSumExactlyAndStayProportional() async {
        await propertyCheck(
            count: 3000, input: Gen.int(in: 0...10_000_000), Gen.int64(in: 0...9_999_000_000),
            Gen.int64(in: 0...9_999_000_000), Gen.int64(in: 0...9_999_000_000)
        ) { total, a, b, c in
            guard let split = try? AllocationSplit(weights: [.eventbrite: a, .luma: b, .meetup: c]) else {
                #expect(a == 0 && b == 0 && c == 0)
                return
            }
            let parts = split.allocate(total)
            #expect(parts.values.reduce(0, +) == total)
            let sum = Double(a) + Double(b) + Double(c)
            for (platform, weight) in [(Platform.eventbrite, a), (.luma, b), (.meetup, c)] {
                let exact = Double(total) * Double(weight) / sum
                let part = Double(parts[platform] ?? -1)
                #expect(part >= exact.rounded(.down) - 1e-6 && part <= exact.rounded(.up) + 1e-6)
                if weight == 0 { #expect(parts[platform] == 0) }
            }
        }
    }
}
