/// Meetup's point costs as DESIGN.md section 4 models them (Meetup does not publish its own):
/// 1 point per request, plus 1 per node returned, plus 5 per mutation.
public enum MeetupCost {
    /// Points per request.
    public static let perRequest = 1
    /// Points per mutation, on top of the request.
    public static let perMutation = 5

    /// The most a query asking for `first` nodes may cost (its throttle estimate): 1 + first.
    public static func queryEstimate(first: Int) -> Int { perRequest + max(0, first) }

    /// What a query cost once answered: 1 + the nodes it returned.
    public static func queryActual(nodesReturned: Int) -> Int { perRequest + max(0, nodesReturned) }

    /// A mutation's cost, estimated and actual alike: 1 + 5.
    public static let mutation = perRequest + perMutation
}
