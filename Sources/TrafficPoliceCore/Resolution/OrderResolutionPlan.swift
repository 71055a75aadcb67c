/// What the Eventbrite order resolver does next with the deliveries waiting for their order
/// (pure: the resolver actor performs it).
///
/// A new order (`order.placed`) waits for the next batched read of its event's orders, which
/// coalesces every delivery that arrived meanwhile. Orders a batched read cannot show (changes to
/// older orders: `order.refunded`, `order.updated`, `attendee.updated`), and new orders still
/// unseen `directAfterMilliseconds` after their delivery (Eventbrite's reads lag its writes by
/// seconds, rarely minutes), are read one by one, at most `maxDirect` per round.
public struct OrderResolutionPlan: Sendable, Hashable {
    /// One delivery waiting for its order.
    public struct Waiting: Sendable, Hashable {
        public var orderID: String
        /// The webhook action, e.g. `order.placed`.
        public var action: String
        /// When the delivery was received, in milliseconds.
        public var receivedMilliseconds: Int64

        public init(orderID: String, action: String, receivedMilliseconds: Int64) {
            self.orderID = orderID
            self.action = action
            self.receivedMilliseconds = receivedMilliseconds
        }
    }

    public struct Configuration: Sendable, Hashable {
        /// How long a new order may stay unseen by batched reads before it is read alone. Default 20 s.
        public var directAfterMilliseconds: Int64 = 20_000
        /// Single-order reads per round, at most. Default 10.
        public var maxDirect: Int = 10

        public init() {}
    }

    /// Orders already resolved (their deliveries go back to the workers).
    public var ready: [String]
    /// Whether the events' orders should be read in a batch now.
    public var batchRead: Bool
    /// Orders to read one by one now.
    public var direct: [String]

    /// Plans one round; `resolved` holds the order ids whose resolution is known.
    public init(waiting: [Waiting], resolved: Set<String>, now: Int64, configuration: Configuration = .init()) {
        var ready: [String] = []
        var direct: [String] = []
        var batchRead = false
        var seen: Set<String> = []
        for wait in waiting.sorted(by: { $0.receivedMilliseconds < $1.receivedMilliseconds })
        where seen.insert(wait.orderID).inserted {
            if resolved.contains(wait.orderID) {
                ready.append(wait.orderID)
            } else if wait.action != "order.placed"
                || now - wait.receivedMilliseconds >= configuration.directAfterMilliseconds
            {
                if direct.count < max(0, configuration.maxDirect) { direct.append(wait.orderID) }
            } else {
                batchRead = true
            }
        }
        self.ready = ready
        self.batchRead = batchRead
        self.direct = direct
    }
}
