import Testing

@testable import PlatformSimulator

@Suite struct RateLimiterTests {
    @Test func fixedWindowRefusesPastTheLimitAndReopensAtTheEdge() {
        var limiter = FixedWindowLimiter(limit: 2, window: 10)
        #expect(limiter.admit("t", now: 100) == .admitted(remaining: 1, resetAt: 110))
        #expect(limiter.admit("t", now: 105) == .admitted(remaining: 0, resetAt: 110))
        #expect(limiter.admit("t", now: 109.999) == .limited(resetAt: 110))
        #expect(limiter.admit("other", now: 109) == .admitted(remaining: 1, resetAt: 119))
        #expect(limiter.admit("t", now: 110) == .admitted(remaining: 1, resetAt: 120))
    }

    @Test func lumaBlocksForTheBlockPeriodAfterTheLimit() {
        var limiter = BlockingWindowLimiter(limit: 2, window: 60, block: 60)
        #expect(limiter.admit("k", now: 0) == .admitted(limit: 2, remaining: 1, resetAt: 60))
        #expect(limiter.admit("k", now: 1) == .admitted(limit: 2, remaining: 0, resetAt: 60))
        #expect(limiter.admit("k", now: 2) == .blocked(limit: 2, blockedUntil: 62))
        // Still blocked after the window would have reset.
        #expect(limiter.admit("k", now: 61) == .blocked(limit: 2, blockedUntil: 62))
        #expect(limiter.admit("k", now: 62) == .admitted(limit: 2, remaining: 1, resetAt: 122))
    }

    @Test func meetupPointsRollAndReportResetAt() {
        var limiter = RollingPointsLimiter(limit: 10, window: 60)
        #expect(limiter.check("t", now: 0) == nil)
        limiter.charge("t", points: 6, now: 0)
        limiter.charge("t", points: 5, now: 30)
        let refusal = limiter.check("t", now: 40)
        #expect(refusal == RollingPointsLimiter.Refusal(consumedPoints: 11, resetAt: 60))
        #expect(limiter.check("t", now: 60) == nil)
        #expect(limiter.consumed("t", now: 60) == 5)
        #expect(limiter.consumed("t", now: 90) == 0)
    }

    @Test func meetupCostModel() {
        #expect(MeetupCostModel().cost(nodes: 3, mutations: 0) == 4)
        #expect(MeetupCostModel().cost(nodes: 0, mutations: 1) == 6)
    }
}
