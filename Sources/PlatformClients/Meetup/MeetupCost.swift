/// Meetup's point costs as DESIGN.md section 4 models them (Meetup does not publish its own):
/// 1 point per request, plus 1 per node returned, plus 5 per mutation. The platform simulator
/// charges the same (`MeetupCostModel`), and `/control/requests` reports each request's points.
///
/// A **node** is one RSVP returned as an `edges { node }` of an `rsvps` connection. The `event`
/// object a query or a mutation payload reads is not a node (it costs nothing beyond the request),
/// and neither are `pageInfo`, counts or `member`. So an RSVP page costs 1 + its RSVPs (1 when the
/// page is empty or the event does not exist), a mutation 1 + 5 whatever its payload holds, and a
/// request refused with `RATE_LIMITED` costs nothing.
public enum MeetupCost {
    /// Points per request.
    public static let perRequest = 1
    /// Points per RSVP node returned.
    public static let perNode = 1
    /// Points per mutation, on top of the request.
    public static let perMutation = 5

    /// The most a query asking for `first` nodes may cost (its throttle estimate): 1 + first.
    public static func queryEstimate(first: Int) -> Int { perRequest + perNode * max(0, first) }

    /// What a query cost once answered: 1 + the RSVP nodes it returned.
    public static func queryActual(nodesReturned: Int) -> Int { perRequest + perNode * max(0, nodesReturned) }

    /// A mutation's cost, estimated and actual alike: 1 + 5.
    public static let mutation = perRequest + perMutation
}
