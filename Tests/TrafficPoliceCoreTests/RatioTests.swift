import Testing
import TrafficPoliceCore

@Suite struct RatioTests {
    @Test(arguments: [
        ("0.10", 100_000), ("0.1", 100_000), (".9", 900_000), ("1", 1_000_000), ("0", 0), ("0.000001", 1),
        ("1.000000", 1_000_000), ("0.07", 70_000),
    ])
    func parsesDecimalsExactly(text: String, ppm: Int64) throws {
        #expect(try Ratio(parsing: text).partsPerMillion == ppm)
    }

    @Test(arguments: ["", ".", "-0.1", "1.1", "2", "0.1234567", "1e-1", "abc", "0,1", " 0.1", "0x1"])
    func refusesWhatIsNotARatio(text: String) {
        #expect(throws: DomainError.self) { try Ratio(parsing: text) }
    }

    @Test func ceilingAndFloorAreExactWhereDoublesAreNot() throws {
        // 0.07 × 100 is 7.000000000000001 as a Double; its ceiling must still be 7.
        #expect(try Ratio(parsing: "0.07").ceilTimes(100) == 7)
        #expect(try Ratio(parsing: "0.1").ceilTimes(1000) == 100)
        #expect(try Ratio(parsing: "0.1").ceilTimes(1001) == 101)
        #expect(try Ratio(parsing: "0.9").floorTimes(1001) == 900)
        #expect(try Ratio(parsing: "0.9").floorTimes(10) == 9)
        #expect(try Ratio(parsing: "0.29").floorTimes(100) == 29)
    }

    @Test func printsTheShortestDecimal() throws {
        #expect(try Ratio(parsing: "0.100").description == "0.1")
        #expect(try Ratio(parsing: "1").description == "1")
        #expect(try Ratio(parsing: "0").description == "0")
        #expect(try Ratio(parsing: "0.000001").description == "0.000001")
    }
}
