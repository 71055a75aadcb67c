import PropertyBased
import Testing
import TrafficPoliceCore

@Suite struct CapacityPolicyTests {
    @Test func defaultsGiveTenPercentSafetyStockAndNinetyPercentSoftCap() throws {
        let policy = try CapacityPolicy(capacity: 1000)
        #expect(policy.safetyStock == 100)
        #expect(policy.softCap == 900)
        #expect(policy.platformShare == 900)
    }

    @Test func safetyStockRoundsUpAndSoftCapRoundsDown() throws {
        let policy = try CapacityPolicy(capacity: 15)
        #expect(policy.safetyStock == 2)  // ceil(1.5)
        #expect(policy.softCap == 13)  // floor(13.5)
    }

    @Test(arguments: [0, -1, CapacityPolicy.maximumCapacity + 1])
    func refusesCapacityOutOfRange(capacity: Int) {
        #expect(throws: DomainError.self) { try CapacityPolicy(capacity: capacity) }
    }

    @Test(arguments: [("1", "0.5"), ("0.5", "0"), ("0.2", "0.81"), ("0.999999", "0.000002")])
    func refusesRatiosOutsideTheValidRange(safety: String, soft: String) throws {
        let safetyStock = try Ratio(parsing: safety)
        let softCap = try Ratio(parsing: soft)
        #expect(throws: DomainError.self) {
            try CapacityPolicy(capacity: 100, safetyStock: safetyStock, softCap: softCap)
        }
    }

    @Test(arguments: [("0", "1"), ("0.2", "0.8"), ("0.999999", "0.000001")])
    func acceptsTheEdgesOfTheValidRange(safety: String, soft: String) throws {
        _ = try CapacityPolicy(capacity: 100, safetyStock: try Ratio(parsing: safety), softCap: try Ratio(parsing: soft))
    }

    /// For every valid policy: 0 ≤ S < C... and soft cap ≤ C − S, computed exactly.
    @Test func capacityArithmeticHoldsForRandomPolicies() async {
        await propertyCheck(
            count: 2000, input: Gen.int(in: 1...2_000_000), Gen.int64(in: 0...999_999), Gen.int64(in: 1...1_000_000)
        ) { capacity, safetyPPM, softPPM in
            guard let safety = try? Ratio(partsPerMillion: safetyPPM),
                let soft = try? Ratio(partsPerMillion: min(softPPM, 1_000_000 - safetyPPM)),
                soft.partsPerMillion > 0,
                let policy = try? CapacityPolicy(capacity: capacity, safetyStock: safety, softCap: soft)
            else { return }
            let exactS = (Int64(capacity) * safetyPPM + 999_999) / 1_000_000
            #expect(policy.safetyStock == Int(exactS))
            #expect(policy.softCap == Int(Int64(capacity) * soft.partsPerMillion / 1_000_000))
            #expect(policy.safetyStock >= 0 && policy.safetyStock <= capacity)
            #expect(policy.softCap <= policy.platformShare)
            #expect(policy.platformShare + policy.safetyStock == capacity)
        }
    }
}
