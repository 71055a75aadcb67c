import PostgresBridge
import Testing

@Suite("PostgresValue (text format, no server)")
struct PostgresValueTests {
    @Test func encodesTextFormat() {
        #expect("it's; ü".postgresText == "it's; ü")
        #expect(42.postgresText == "42")
        #expect(Int32.min.postgresText == "-2147483648")
        #expect(Int64.max.postgresText == "9223372036854775807")
        #expect(true.postgresText == "true")
        #expect(false.postgresText == "false")
        #expect(2.5.postgresText == "2.5")
        #expect(Double.infinity.postgresText == "Infinity")
        #expect((-Double.infinity).postgresText == "-Infinity")
        #expect(Double.nan.postgresText == "NaN")
    }

    @Test func decodesTextFormat() throws {
        #expect(String(postgresText: "x") == "x")
        #expect(try Int(postgresText: "-7") == -7)
        #expect(try Int32(postgresText: "2147483647") == Int32.max)
        #expect(try Int64(postgresText: "-9223372036854775808") == Int64.min)
        #expect(try Bool(postgresText: "t") == true)
        #expect(try Bool(postgresText: "f") == false)
        #expect(try Double(postgresText: "0.1") == 0.1)
        #expect(try Double(postgresText: "-Infinity") == -.infinity)
        #expect(try Double(postgresText: "NaN").isNaN)
    }

    @Test func rejectsUnparsableText() {
        for (text, decode) in [
            ("abc", { try Int(postgresText: $0) } as (String) throws -> Any),
            ("2147483648", { try Int32(postgresText: $0) }),
            ("1.5", { try Int64(postgresText: $0) }),
            ("yes", { try Bool(postgresText: $0) }),
            ("one", { try Double(postgresText: $0) }),
        ] {
            let error = #expect(throws: PostgresError.self) { try decode(text) }
            #expect(error?.kind == .decodingFailed)
        }
    }

    @Test func errorDescriptionAndUniqueViolation() {
        let error = PostgresError(kind: .queryFailed, message: "duplicate key", sqlState: "23505", detail: "Key (id)=(1)")
        #expect(error.isUniqueViolation)
        #expect(error.description == "PostgresError.queryFailed [23505]: duplicate key (Key (id)=(1))")
        #expect(!PostgresError(kind: .queryFailed, message: "x", sqlState: "42601").isUniqueViolation)
    }

    @Test func configurationDefaults() {
        let configuration = PostgresConfiguration(connectionString: "host=example dbname=x")
        #expect(configuration.connectionString == "host=example dbname=x")
        #expect(configuration.poolSize == 4)
        #expect(configuration.connectTimeout == .seconds(5))
        #expect(PostgresConfiguration(connectionString: "", poolSize: 0).poolSize == 1)
    }
}
