import ArgumentParser
import TrafficPolice
import TrafficPoliceCore

extension EventCommand {
    /// `event close ID --by NAME [--reason TEXT] [--json]`
    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "End the event's sales on every platform (mode closed).",
            discussion: """
                Every platform's allocation becomes what it has sold; the running daemon publishes that
                as its capacity (Meetup: RSVPs closed) within seconds, as in red alert. Orders a
                platform sold before it heard are still decided (absorbed, else overbooked); the box
                office may still sell what is left (traffic-police sell). There is no reopening.
                Exit 0 (also when already closed), 1 unknown event, 69 Redis or PostgreSQL unreachable.
                """)

        @Argument(help: "The event id.") var id: String
        @Option(help: "The operator ending the sales (logged).") var by: String
        @Option(help: "Why (logged).") var reason: String?
        @Flag(help: "Print one JSON object.") var json = false
        @OptionGroup var connection: ConnectionOptions

        func validate() throws {
            do { _ = try EventID(id) } catch { throw ValidationError("\(error)") }
            if by.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                throw ValidationError("--by must name the operator ending the sales")
            }
        }

        func run() async throws {
            let eventID = try EventID(id)
            try await CommandRuntime.run(connection) { runtime in
                let result = try await runtime.desk.close(eventID, by: by, reason: reason)
                let snapshot = try await runtime.desk.snapshot(eventID)
                if json {
                    try Output.json(CloseOutput(result: result, event: snapshot))
                } else {
                    Output.line(
                        result == .closed
                            ? "closed \(eventID): sales ended on every platform (sold \(snapshot.sold) of \(snapshot.capacity))"
                            : "\(eventID) was already closed")
                }
            }
        }

        struct CloseOutput: Encodable {
            var result: EventDesk.CloseResult
            var event: EventSnapshot
        }
    }
}
