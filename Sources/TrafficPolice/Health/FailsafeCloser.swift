import Logging
import TrafficPoliceCore

/// Tells every listing of every event still on sale to stop selling (G5: waitlist only), through the
/// throttler's fail-safe lane: Eventbrite's and Luma's capacity set to what they sold, Meetup's RSVPs
/// closed. Reads only PostgreSQL (Redis is what is down), and keeps the last listings it read so that
/// it can close them even when the ledger does not answer either.
public actor FailsafeCloser {
    /// One listing to close, with what the ledger says it sold.
    public struct Target: Sendable, Hashable {
        public var event: EventID
        public var listing: ListingReference
        public var sold: Int
    }

    private let ledger: Ledger
    private let publisher: CapacityPublisher
    private let logger: Logger
    private var known: [Target] = []

    /// - Parameter publisher: publishes on the fail-safe lane (``Lane/failsafe``).
    public init(ledger: Ledger, publisher: CapacityPublisher, logger: Logger) {
        self.ledger = ledger
        self.publisher = publisher
        self.logger = logger
    }

    /// The listings of every event that is open (red alert and closed events are closed already),
    /// read from the ledger; the last ones read when it cannot be read.
    public func targets() async -> [Target] {
        do {
            var fresh: [Target] = []
            for event in try await ledger.events() where event.mode != .closed {
                let listings = ListingReference.linked(try await ledger.listings(event.id))
                guard !listings.isEmpty else { continue }
                let stock = try await ledger.eventStock(event.id)
                guard stock.mode != .redAlert, stock.mode != .closed else { continue }
                let sold = stock.counters.sold
                for (platform, listing) in listings.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                    fresh.append(Target(event: event.id, listing: listing, sold: sold[.platform(platform)] ?? 0))
                }
            }
            known = fresh
        } catch {
            logger.warning(
                "cannot read the listings from the ledger; closing the ones read before",
                metadata: ["ERROR": "\(error)", "LISTINGS": "\(known.count)"])
        }
        return known
    }

    /// Closes every target at once; returns those that could not be closed (to try again).
    public func close(_ targets: [Target]) async -> [Target] {
        await withTaskGroup(of: Target?.self) { group in
            for target in targets {
                group.addTask { await self.close(target) ? nil : target }
            }
            var failed: [Target] = []
            for await target in group {
                if let target { failed.append(target) }
            }
            return failed
        }
    }

    /// Closes one listing at what the ledger says it sold, or at the platform's own count when the
    /// platform refuses a capacity below what it sold.
    private nonisolated func close(_ target: Target) async -> Bool {
        var metadata: Logger.Metadata = [
            "EVENT_ID": "\(target.event.rawValue)", "PLATFORM": "\(target.listing.platform.rawValue)",
            "MODE": "failsafe", "SOLD": "\(target.sold)",
        ]
        do {
            do {
                try await publisher.close(target.listing, sold: target.sold)
            } catch CapacityPublishError.tooSmall(let sold, _) {
                let platformSold: Int
                if let sold { platformSold = sold } else { platformSold = try await publisher.read(target.listing).sold ?? target.sold }
                metadata["PLATFORM_SOLD"] = "\(platformSold)"
                try await publisher.close(target.listing, sold: max(platformSold, target.sold))
            }
            logger.info("fail-safe: listing told to stop selling", metadata: metadata)
            return true
        } catch CapacityPublishError.notConfigured {
            // No credentials: the daemon never published there and cannot close it either.
            logger.warning("fail-safe: the platform is not configured; its listing cannot be closed", metadata: metadata)
            return true
        } catch {
            metadata["ERROR"] = "\(error)"
            logger.error("fail-safe: a listing could not be closed; trying again", metadata: metadata)
            return false
        }
    }
}
