import Testing
import TrafficPolice

@Suite("Eventbrite api_url policy")
struct IntakeAPIURLPolicyTests {
    @Test func onlyURLsUnderTheBaseAreAllowed() throws {
        let policy = try EventbriteAPIURLPolicy(baseURL: "https://www.eventbriteapi.com/v3")
        #expect(policy.allows("https://www.eventbriteapi.com/v3/orders/1546689753/"))
        #expect(policy.allows("https://WWW.EventbriteAPI.com:443/v3/events/1/attendees/2/"))
        for foreign in [
            "http://www.eventbriteapi.com/v3/orders/1/",  // scheme
            "https://evil.example/v3/orders/1/",  // host
            "https://www.eventbriteapi.com.evil.example/v3/orders/1/",
            "https://www.eventbriteapi.com:8443/v3/orders/1/",  // port
            "https://www.eventbriteapi.com/v4/orders/1/",  // path prefix
            "https://www.eventbriteapi.com/v3",  // the base itself
            "https://www.eventbriteapi.com/v3evil/orders/1/",
            "https://www.eventbriteapi.com/v3/../admin/",
            "https://www.eventbriteapi.com/v3/%2e%2e/admin/",
            "https://user:pw@www.eventbriteapi.com/v3/orders/1/",
            "https://www.eventbriteapi.com/v3/orders/1/#x",
            "/v3/orders/1/", "", "not a url", "file:///etc/passwd",
        ] {
            #expect(!policy.allows(foreign), "\(foreign)")
        }
    }

    @Test func aLoopbackSimulatorBaseIsHonoured() throws {
        let policy = try EventbriteAPIURLPolicy(baseURL: "http://127.0.0.1:8081/eventbrite/v3/")
        #expect(policy.allows("http://127.0.0.1:8081/eventbrite/v3/orders/7/"))
        #expect(!policy.allows("http://127.0.0.1:8082/eventbrite/v3/orders/7/"))
        #expect(!policy.allows("http://127.0.0.1/eventbrite/v3/orders/7/"))
        #expect(throws: EventbriteWebhookError.self) { try EventbriteAPIURLPolicy(baseURL: "ftp://x/v3") }
    }
}
