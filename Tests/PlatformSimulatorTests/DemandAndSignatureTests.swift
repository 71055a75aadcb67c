import Crypto
import Foundation
import Testing

@testable import PlatformSimulator

@Suite struct DemandAndSignatureTests {
    func spec(_ shape: DemandSpec.Shape) -> DemandSpec {
        var spec = DemandSpec(
            events: [.eventbrite: "e", .luma: "evt-1", .meetup: "m"], ratePerSecond: 100,
            skew: [.eventbrite: 60, .luma: 30, .meetup: 10])
        spec.total = 3000
        spec.quantityMax = 4
        spec.shape = shape
        return spec
    }

    @Test func scheduleIsDeterministicAndSkewed() {
        let a = Array(IteratorSequence(DemandSchedule(spec: spec(.steady), seed: 7)))
        let b = Array(IteratorSequence(DemandSchedule(spec: spec(.steady), seed: 7)))
        let c = Array(IteratorSequence(DemandSchedule(spec: spec(.steady), seed: 8)))
        #expect(a == b && a != c && a.count == 3000)
        let eventbrite = Double(a.filter { $0.platform == .eventbrite }.count) / 3000
        let meetup = Double(a.filter { $0.platform == .meetup }.count) / 3000
        #expect(abs(eventbrite - 0.6) < 0.05 && abs(meetup - 0.1) < 0.03)
        #expect(a.allSatisfy { (1...4).contains($0.quantity) })
        #expect(zip(a, a.dropFirst()).allSatisfy { $0.atMs <= $1.atMs })
    }

    @Test func dropFrontLoadsArrivals() {
        let arrivals = Array(IteratorSequence(DemandSchedule(spec: spec(.drop), seed: 1)))
        let last = arrivals.last?.atMs ?? 0
        let early = arrivals.filter { $0.atMs < last / 4 }.count
        #expect(Double(early) > Double(arrivals.count) * 0.5)
    }

    @Test func lumaV1SignatureMatchesAnIndependentHMAC() {
        let body = Array(#"{"type":"guest.updated"}"#.utf8)
        let header = WebhookSignature.lumaV1(secret: "whsec_test", timestamp: 1_700_000_000, body: body)
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("1700000000.".utf8) + Data(body), using: SymmetricKey(data: Data("whsec_test".utf8)))
        #expect(header == "t=1700000000,v1=" + mac.map { String(format: "%02x", $0) }.joined())
    }

    @Test func standardSignatureUsesTheDecodedSecret() throws {
        let key = Data("0123456789abcdef".utf8)
        let secret = "whsec_" + key.base64EncodedString()
        let body = Array("{}".utf8)
        let mac = HMAC<SHA256>.authenticationCode(for: Data("msg_1.1700000000.{}".utf8), using: SymmetricKey(data: key))
        #expect(WebhookSignature.standard(secret: secret, id: "msg_1", timestamp: 1_700_000_000, body: body) == "v1," + Data(mac).base64EncodedString())
    }

    @Test func timestampsRoundTrip() {
        #expect(Timestamps.seconds(1_526_090_400) == "2018-05-12T02:00:00Z")
        #expect(Timestamps.parse("2018-05-12T02:00:00Z") == 1_526_090_400)
        #expect(Timestamps.milliseconds(1_666_150_033.673) == "2022-10-19T03:27:13.673Z")
        #expect(Timestamps.parse("nope") == nil)
    }
}
