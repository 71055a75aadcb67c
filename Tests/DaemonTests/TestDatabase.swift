import Foundation
import PostgresBridge
import Testing

/// A database of its own on the test PostgreSQL server, for tests whose daemons act on every
/// linked event (pollers, sweeps): events other tests left in the shared database would be polled too.
struct TestDatabase: Sendable {
    let name: String
    /// The connection string of the new database.
    let url: String
    private let serverURL: String

    static func create() async throws -> TestDatabase {
        let serverURL = try #require(ProcessInfo.processInfo.environment["TRAFFIC_POLICE_POSTGRES_URL"], "run scripts/test")
        let name = "tp_test_\(UUID().uuidString.prefix(8).lowercased())"
        let admin = PostgresClient(configuration: PostgresConfiguration(connectionString: serverURL, poolSize: 1))
        defer { Task { await admin.shutdown() } }
        _ = try await admin.query("CREATE DATABASE \(name)", [])
        return TestDatabase(name: name, url: try Self.url(serverURL, database: name), serverURL: serverURL)
    }

    /// `serverURL` with its database name replaced (URL form `postgresql://…/db[?…]`).
    static func url(_ serverURL: String, database: String) throws -> String {
        let (base, query) = serverURL.firstIndex(of: "?").map { (serverURL[..<$0], serverURL[$0...]) } ?? (serverURL[...], "")
        let slash = try #require(base.lastIndex(of: "/"), "TRAFFIC_POLICE_POSTGRES_URL must be a postgresql:// URL")
        return base[...slash] + database + query
    }

    func drop() async {
        let admin = PostgresClient(configuration: PostgresConfiguration(connectionString: serverURL, poolSize: 1))
        _ = try? await admin.query("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", [])
        await admin.shutdown()
    }
}
