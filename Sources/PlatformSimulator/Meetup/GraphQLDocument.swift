/// Just enough GraphQL to read what a client sends Meetup: one operation (query or mutation), its
/// variable definitions' defaults, and nested selections with literal or `$variable` arguments.
/// Fragments and directives are refused (the simulator reports them as validation errors).
public struct GraphQLDocument: Sendable, Equatable {
    public enum OperationType: String, Sendable { case query, mutation }

    /// An argument value as written.
    public indirect enum Value: Sendable, Equatable {
        case variable(String)
        case int(Int)
        case float(Double)
        case string(String)
        case bool(Bool)
        case null
        case enumValue(String)
        case list([Value])
        case object([String: Value])
    }

    public struct Field: Sendable, Equatable {
        public var alias: String?
        public var name: String
        public var arguments: [String: Value]
        public var selections: [Field]
        /// 1-based line and column of the field name (for error `locations`).
        public var line: Int
        public var column: Int

        /// The key this field has in the response.
        public var responseKey: String { alias ?? name }
    }

    public var operation: OperationType
    public var name: String?
    /// Defaults of the variable definitions (`$first: Int = 50`).
    public var variableDefaults: [String: Value]
    public var selections: [Field]

    /// A syntax error with its position.
    public struct SyntaxError: Error, Equatable, Sendable {
        public var message: String
        public var line: Int
        public var column: Int
    }

    /// Parses `source`, selecting the operation named `operationName` when the document holds several.
    public static func parse(_ source: String, operationName: String? = nil) throws -> GraphQLDocument {
        var parser = GraphQLParser(tokens: try GraphQLTokenizer.tokenize(source))
        let operations = try parser.document()
        if let operationName {
            guard let match = operations.first(where: { $0.name == operationName }) else {
                throw SyntaxError(message: "Unknown operation named \"\(operationName)\".", line: 1, column: 1)
            }
            return match
        }
        guard operations.count == 1, let only = operations.first else {
            throw SyntaxError(
                message: "Must provide operation name if query contains multiple operations.", line: 1, column: 1)
        }
        return only
    }
}

/// One lexical token with its position.
struct GraphQLToken: Equatable {
    enum Kind: Equatable { case punctuator, name, int, float, string, spread }
    var kind: Kind
    var text: String
    var line: Int
    var column: Int
}

enum GraphQLTokenizer {
    static func tokenize(_ source: String) throws -> [GraphQLToken] {
        let chars = Array(source.unicodeScalars)
        var tokens: [GraphQLToken] = []
        var index = 0
        var line = 1
        var lineStart = 0
        func error(_ message: String) -> GraphQLDocument.SyntaxError {
            GraphQLDocument.SyntaxError(message: "Syntax Error: \(message)", line: line, column: index - lineStart + 1)
        }
        while index < chars.count {
            let c = chars[index]
            let column = index - lineStart + 1
            switch c {
            case "\n":
                index += 1
                line += 1
                lineStart = index
            case " ", "\t", "\r", ",", "\u{FEFF}":
                index += 1
            case "#":
                while index < chars.count, chars[index] != "\n" { index += 1 }
            case "{", "}", "(", ")", "[", "]", ":", "=", "!", "$", "@", "|", "&":
                tokens.append(GraphQLToken(kind: .punctuator, text: String(c), line: line, column: column))
                index += 1
            case ".":
                guard index + 2 < chars.count, chars[index + 1] == ".", chars[index + 2] == "." else {
                    throw error("Unexpected \".\".")
                }
                tokens.append(GraphQLToken(kind: .spread, text: "...", line: line, column: column))
                index += 3
            case "\"":
                if index + 2 < chars.count, chars[index + 1] == "\"", chars[index + 2] == "\"" {
                    index += 3
                    var text = ""
                    while true {
                        guard index < chars.count else { throw error("Unterminated string.") }
                        if index + 2 < chars.count, chars[index] == "\"", chars[index + 1] == "\"", chars[index + 2] == "\"" {
                            index += 3
                            break
                        }
                        if chars[index] == "\n" {
                            line += 1
                            lineStart = index + 1
                        }
                        text.unicodeScalars.append(chars[index])
                        index += 1
                    }
                    tokens.append(GraphQLToken(kind: .string, text: text, line: line, column: column))
                } else {
                    index += 1
                    var text = ""
                    while true {
                        guard index < chars.count, chars[index] != "\n" else { throw error("Unterminated string.") }
                        let s = chars[index]
                        if s == "\"" {
                            index += 1
                            break
                        }
                        if s == "\\" {
                            guard index + 1 < chars.count else { throw error("Unterminated string.") }
                            let escaped = chars[index + 1]
                            index += 2
                            switch escaped {
                            case "n": text += "\n"
                            case "t": text += "\t"
                            case "r": text += "\r"
                            case "b": text += "\u{8}"
                            case "f": text += "\u{C}"
                            case "u":
                                guard index + 4 <= chars.count,
                                    let code = UInt32(String(String.UnicodeScalarView(chars[index..<index + 4])), radix: 16),
                                    let scalar = Unicode.Scalar(code)
                                else { throw error("Invalid Unicode escape sequence.") }
                                text.unicodeScalars.append(scalar)
                                index += 4
                            default: text.unicodeScalars.append(escaped)
                            }
                            continue
                        }
                        text.unicodeScalars.append(s)
                        index += 1
                    }
                    tokens.append(GraphQLToken(kind: .string, text: text, line: line, column: column))
                }
            case "-", "0"..."9":
                var text = String(c)
                index += 1
                var isFloat = false
                while index < chars.count {
                    let d = chars[index]
                    if ("0"..."9").contains(d) {
                        text.unicodeScalars.append(d)
                    } else if d == "." || d == "e" || d == "E" || ((d == "+" || d == "-") && (text.hasSuffix("e") || text.hasSuffix("E"))) {
                        isFloat = true
                        text.unicodeScalars.append(d)
                    } else {
                        break
                    }
                    index += 1
                }
                guard text != "-" else { throw error("Invalid number, expected digit but got \"-\".") }
                tokens.append(GraphQLToken(kind: isFloat ? .float : .int, text: text, line: line, column: column))
            case "_", "a"..."z", "A"..."Z":
                var text = ""
                while index < chars.count,
                    chars[index] == "_" || ("a"..."z").contains(chars[index]) || ("A"..."Z").contains(chars[index])
                        || ("0"..."9").contains(chars[index])
                {
                    text.unicodeScalars.append(chars[index])
                    index += 1
                }
                tokens.append(GraphQLToken(kind: .name, text: text, line: line, column: column))
            default:
                throw error("Unexpected character \"\(c)\".")
            }
        }
        return tokens
    }
}

struct GraphQLParser {
    typealias SyntaxError = GraphQLDocument.SyntaxError
    let tokens: [GraphQLToken]
    var index = 0

    init(tokens: [GraphQLToken]) { self.tokens = tokens }

    private var current: GraphQLToken? { index < tokens.count ? tokens[index] : nil }

    private func error(_ message: String) -> SyntaxError {
        let token = current ?? tokens.last
        return SyntaxError(message: "Syntax Error: \(message)", line: token?.line ?? 1, column: token?.column ?? 1)
    }

    private func peek(_ text: String) -> Bool { current?.kind == .punctuator && current?.text == text }

    private mutating func expect(_ text: String) throws {
        guard peek(text) else { throw error("Expected \"\(text)\", found \(describe(current)).") }
        index += 1
    }

    private func describe(_ token: GraphQLToken?) -> String {
        guard let token else { return "<EOF>" }
        return token.kind == .name ? "Name \"\(token.text)\"" : "\"\(token.text)\""
    }

    private mutating func name() throws -> String {
        guard let token = current, token.kind == .name else { throw error("Expected Name, found \(describe(current)).") }
        index += 1
        return token.text
    }

    mutating func document() throws -> [GraphQLDocument] {
        var operations: [GraphQLDocument] = []
        guard current != nil else { throw error("Unexpected <EOF>.") }
        while let token = current {
            if peek("{") {
                operations.append(
                    GraphQLDocument(operation: .query, name: nil, variableDefaults: [:], selections: try selectionSet()))
                continue
            }
            guard token.kind == .name else { throw error("Unexpected \(describe(token)).") }
            switch token.text {
            case "query", "mutation":
                index += 1
                var name: String?
                if current?.kind == .name { name = try self.name() }
                let defaults = peek("(") ? try variableDefinitions() : [:]
                if peek("@") { throw error("Directives are not supported by the simulator.") }
                operations.append(
                    GraphQLDocument(
                        operation: token.text == "query" ? .query : .mutation, name: name, variableDefaults: defaults,
                        selections: try selectionSet()))
            case "subscription":
                throw error("Subscriptions are not supported: Meetup's schema has no subscription type.")
            case "fragment":
                throw error("Fragments are not supported by the simulator.")
            default:
                throw error("Unexpected \(describe(token)).")
            }
        }
        return operations
    }

    private mutating func variableDefinitions() throws -> [String: GraphQLDocument.Value] {
        try expect("(")
        var defaults: [String: GraphQLDocument.Value] = [:]
        while !peek(")") {
            try expect("$")
            let variable = try name()
            try expect(":")
            try type()
            if peek("=") {
                index += 1
                defaults[variable] = try value(constant: true)
            }
        }
        try expect(")")
        return defaults
    }

    private mutating func type() throws {
        if peek("[") {
            index += 1
            try type()
            try expect("]")
        } else {
            _ = try name()
        }
        if peek("!") { index += 1 }
    }

    mutating func selectionSet() throws -> [GraphQLDocument.Field] {
        try expect("{")
        var fields: [GraphQLDocument.Field] = []
        while !peek("}") {
            guard let token = current else { throw error("Expected Name, found <EOF>.") }
            if token.kind == .spread { throw error("Fragments are not supported by the simulator.") }
            let first = try name()
            var alias: String?
            var fieldName = first
            if peek(":") {
                index += 1
                alias = first
                fieldName = try name()
            }
            let arguments = peek("(") ? try self.arguments() : [:]
            if peek("@") { throw error("Directives are not supported by the simulator.") }
            let selections = peek("{") ? try selectionSet() : []
            fields.append(
                GraphQLDocument.Field(
                    alias: alias, name: fieldName, arguments: arguments, selections: selections, line: token.line,
                    column: token.column))
        }
        try expect("}")
        return fields
    }

    private mutating func arguments() throws -> [String: GraphQLDocument.Value] {
        try expect("(")
        var arguments: [String: GraphQLDocument.Value] = [:]
        while !peek(")") {
            let key = try name()
            try expect(":")
            arguments[key] = try value(constant: false)
        }
        try expect(")")
        return arguments
    }

    private mutating func value(constant: Bool) throws -> GraphQLDocument.Value {
        guard let token = current else { throw error("Unexpected <EOF>.") }
        switch token.kind {
        case .punctuator where token.text == "$" && !constant:
            index += 1
            return .variable(try name())
        case .punctuator where token.text == "[":
            index += 1
            var items: [GraphQLDocument.Value] = []
            while !peek("]") { items.append(try value(constant: constant)) }
            index += 1
            return .list(items)
        case .punctuator where token.text == "{":
            index += 1
            var members: [String: GraphQLDocument.Value] = [:]
            while !peek("}") {
                let key = try name()
                try expect(":")
                members[key] = try value(constant: constant)
            }
            index += 1
            return .object(members)
        case .int:
            index += 1
            guard let number = Int(token.text) else { throw error("Invalid number \(token.text).") }
            return .int(number)
        case .float:
            index += 1
            guard let number = Double(token.text) else { throw error("Invalid number \(token.text).") }
            return .float(number)
        case .string:
            index += 1
            return .string(token.text)
        case .name:
            index += 1
            switch token.text {
            case "true": return .bool(true)
            case "false": return .bool(false)
            case "null": return .null
            default: return .enumValue(token.text)
            }
        default:
            throw error("Unexpected \(describe(token)).")
        }
    }
}
