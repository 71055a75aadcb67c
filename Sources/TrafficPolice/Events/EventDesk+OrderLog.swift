import Logging
import TrafficPoliceCore

extension EventDesk {
    /// Logs one decided platform order, with the fields an operator filters the journal on
    /// (`journalctl -u traffic-police EVENT_ID=… ORDER_ID=…`): at info level, or at debug when the
    /// decision is a repeat of one already logged (a duplicated webhook, a retried job).
    static func noteOrder(
        _ outcome: String, event: EventID, platform: Platform, orderID: String, quantity: Int,
        source: OrderSource, repeated: Bool
    ) {
        let metadata: Logger.Metadata = [
            "EVENT_ID": "\(event.rawValue)", "PLATFORM": "\(platform.rawValue)", "ORDER_ID": "\(orderID)",
            "OUTCOME": "\(outcome)", "QUANTITY": "\(quantity)", "SOURCE": "\(source.rawValue)",
        ]
        let message: Logger.Message = "\(platform.rawValue) order \(orderID): \(outcome) × \(quantity)"
        orderLogger.log(level: repeated ? .debug : .info, message, metadata: metadata)
    }

    private static let orderLogger = Logger(label: "traffic-police.orders")
}
