import ArgumentParser
import TrafficPolice
import TrafficPoliceCore

/// `traffic-police event create|link|show|list`.
struct EventCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "event",
        abstract: "Create, link, show and list events.",
        subcommands: [Create.self, Link.self, Show.self, List.self, Close.self])

    /// `event create ID --name NAME --capacity N [--safety-stock 0.10] [--soft-cap 0.90] [--split …]`
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an event and split C − S over the platforms.",
            discussion: """
                Safety stock S = ceil(C × safety_stock) is never offered on any platform; red alert
                starts when sold reaches floor(C × soft_cap). Valid: 0 ≤ safety_stock < 1 and
                0 < soft_cap ≤ 1 − safety_stock.
                """)

        @Argument(help: "The event id (letters, digits, '_', '-', '.').") var id: String
        @Option(help: "The event's name.") var name: String
        @Option(help: "Capacity C: the number of tickets that exist.") var capacity: Int
        @Option(name: .customLong("safety-stock"), help: "Share of C kept off every platform.")
        var safetyStock: String = "0.10"
        @Option(name: .customLong("soft-cap"), help: "Share of C sold at which red alert starts.")
        var softCap: String = "0.90"
        @Option(help: "Weights for splitting C − S, e.g. eventbrite=1,luma=1,meetup=1 (unnamed platforms get 0).")
        var split: String?
        @Flag(help: "Print the new event as JSON.") var json = false
        @OptionGroup var connection: ConnectionOptions

        func validate() throws {
            _ = try parsed()
        }

        private func parsed() throws -> (EventID, CapacityPolicy, AllocationSplit) {
            do {
                let policy = try CapacityPolicy(
                    capacity: capacity, safetyStock: try Ratio(parsing: safetyStock), softCap: try Ratio(parsing: softCap))
                let weights = try split.map { try AllocationSplit(parsing: $0) } ?? .equal
                return (try EventID(id), policy, weights)
            } catch let error as DomainError {
                throw ValidationError(error.message)
            }
        }

        func run() async throws {
            let (eventID, policy, weights) = try parsed()
            try await CommandRuntime.run(connection) { runtime in
                let snapshot = try await runtime.desk.create(id: eventID, name: name, policy: policy, split: weights)
                if json {
                    try Output.json(snapshot)
                } else {
                    Output.line("created event \(snapshot.id)")
                    EventTable.print([snapshot])
                }
            }
        }
    }

    /// `event link ID --platform eventbrite|luma|meetup --platform-event PID [--ticket-class TID]`
    struct Link: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Link the event's listing on a platform to that platform's event.")

        @Argument(help: "The event id.") var id: String
        @Option(help: "eventbrite, luma or meetup.") var platform: Platform
        @Option(name: .customLong("platform-event"), help: "The platform's id for the event.") var platformEvent: String
        @Option(name: .customLong("ticket-class"), help: "Eventbrite ticket class to publish the capacity on.")
        var ticketClass: String?
        @Flag(help: "Print the event, with the new link, as JSON (as event show --json).") var json = false
        @OptionGroup var connection: ConnectionOptions

        func validate() throws {
            do { _ = try EventID(id) } catch { throw ValidationError("\(error)") }
            if ticketClass != nil && platform != .eventbrite {
                throw ValidationError("--ticket-class applies to eventbrite only")
            }
            if platformEvent.isEmpty { throw ValidationError("--platform-event must not be empty") }
        }

        func run() async throws {
            let eventID = try EventID(id)
            try await CommandRuntime.run(connection, needsRedis: false) { runtime in
                try await runtime.desk.link(
                    eventID, platform: platform, platformEventID: platformEvent, ticketClassID: ticketClass)
                if json {
                    try Output.json(try await runtime.desk.snapshot(eventID, allowLedgerFallback: true))
                } else {
                    Output.line("linked \(eventID) to \(platform.rawValue) event \(platformEvent)")
                }
            }
        }
    }

    /// `event show ID [--json]`
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an event's counters and listings.")

        @Argument(help: "The event id.") var id: String
        @Flag(help: "Print one JSON object.") var json = false
        @OptionGroup var connection: ConnectionOptions

        func validate() throws {
            do { _ = try EventID(id) } catch { throw ValidationError("\(error)") }
        }

        func run() async throws {
            let eventID = try EventID(id)
            try await CommandRuntime.run(connection, needsRedis: false) { runtime in
                let snapshot = try await runtime.withFailsafe(runtime.desk.snapshot(eventID, allowLedgerFallback: true))
                if snapshot.source != "redis" {
                    Output.warning("Redis is unreachable: showing the ledger's figures")
                }
                if json { try Output.json(snapshot) } else { EventTable.print([snapshot]) }
            }
        }
    }

    /// `event list [--json]`
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every event.")

        @Flag(help: "Print a JSON array.") var json = false
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await CommandRuntime.run(connection, needsRedis: false) { runtime in
                let snapshots = try await runtime.withFailsafe(runtime.desk.list(allowLedgerFallback: true))
                if snapshots.contains(where: { $0.source != "redis" }) {
                    Output.warning("Redis is unreachable: showing the ledger's figures")
                }
                if json {
                    try Output.json(snapshots)
                } else if snapshots.isEmpty {
                    Output.line("no events")
                } else {
                    EventTable.print(snapshots)
                }
            }
        }
    }
}

extension Platform: ExpressibleByArgument {}

/// The plain-text form of `event show` and `event list`.
enum EventTable {
    static func print(_ snapshots: [EventSnapshot]) {
        for snapshot in snapshots {
            Output.line(
                "\(snapshot.id)  \(snapshot.name)  mode=\(snapshot.mode.rawValue)  capacity=\(snapshot.capacity)  "
                    + "sold=\(snapshot.sold)  stock=\(snapshot.stock)  safety_stock=\(snapshot.safetyStock)  "
                    + "soft_cap=\(snapshot.softCap)  free=\(snapshot.freeStock)")
            Output.line("  " + pad("channel", 12) + pad("allocation", 12) + pad("published", 11) + pad("sold", 8) + "linked to")
            for channel in SalesChannel.all {
                guard let state = snapshot.platforms[channel.name] else { continue }
                let link = state.platformEventID.map { id in state.ticketClassID.map { "\(id) (ticket class \($0))" } ?? id }
                Output.line(
                    "  " + pad(channel.name, 12) + pad(String(state.allocation), 12) + pad(String(state.published), 11)
                        + pad(String(state.sold), 8) + (link ?? (channel == .boxOffice ? "" : "-")))
            }
        }
    }

    /// `text` padded with spaces to `width`, or followed by one space when it is as wide or wider.
    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
