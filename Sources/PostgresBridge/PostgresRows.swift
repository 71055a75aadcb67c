/// The rows of one statement's result, copied out of libpq (text format).
public struct PostgresRows: Sendable, RandomAccessCollection {
    public typealias Index = Int
    public typealias Element = PostgresRow

    /// The column names, in result order.
    public let columns: [String]
    /// The number of rows the command affected (PQcmdTuples), 0 when it reports none.
    public let affectedRows: Int
    /// The command tag (PQcmdStatus), e.g. "INSERT 0 1" or "COMMIT".
    public let commandTag: String

    private let storage: PostgresRowStorage

    init(columns: [String], rowCount: Int, cells: [String?], affectedRows: Int, commandTag: String) {
        self.columns = columns
        self.affectedRows = affectedRows
        self.commandTag = commandTag
        self.storage = PostgresRowStorage(columns: columns, rowCount: rowCount, cells: cells)
    }

    /// An empty result (no columns, no rows).
    static var empty: PostgresRows {
        PostgresRows(columns: [], rowCount: 0, cells: [], affectedRows: 0, commandTag: "")
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { self.storage.rowCount }

    public subscript(position: Int) -> PostgresRow {
        precondition(position >= 0 && position < self.endIndex, "PostgresRows index out of range")
        return PostgresRow(storage: self.storage, row: position)
    }
}

/// One row of a ``PostgresRows`` result.
public struct PostgresRow: Sendable {
    private let storage: PostgresRowStorage
    private let row: Int

    init(storage: PostgresRowStorage, row: Int) {
        self.storage = storage
        self.row = row
    }

    /// The column names, in result order.
    public var columns: [String] { self.storage.columns }

    /// The text value of `column`; nil for SQL NULL or an unknown column.
    public subscript(_ column: String) -> String? {
        guard let index = self.storage.columnIndex[column] else { return nil }
        return self.storage.cell(row: self.row, column: index)
    }

    /// The text value of the column at `index` (result order); nil for SQL NULL or out of range.
    public subscript(index index: Int) -> String? {
        guard index >= 0 && index < self.storage.columns.count else { return nil }
        return self.storage.cell(row: self.row, column: index)
    }

    /// Whether the result has a column named `column`.
    public func contains(_ column: String) -> Bool {
        self.storage.columnIndex[column] != nil
    }

    /// Decodes `column`; throws `.decodingFailed` naming the column if it is NULL, missing or unparsable.
    public func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        guard let value = try self.decodeIfPresent(column, as: type) else {
            throw PostgresError(kind: .decodingFailed, message: "column \"\(column)\" is NULL, expected \(T.self)")
        }
        return value
    }

    /// Decodes `column`, or returns nil when it is NULL; throws `.decodingFailed` naming the column if
    /// the result has no such column or the value is unparsable.
    public func decodeIfPresent<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T? {
        guard let index = self.storage.columnIndex[column] else {
            throw PostgresError(
                kind: .decodingFailed,
                message: "no column \"\(column)\" in result (columns: \(self.storage.columns.joined(separator: ", ")))"
            )
        }
        guard let text = self.storage.cell(row: self.row, column: index) else {
            return nil
        }
        do {
            return try T(postgresText: text)
        } catch var error as PostgresError {
            error.kind = .decodingFailed
            error.message = "column \"\(column)\": \(error.message)"
            throw error
        } catch {
            throw PostgresError(kind: .decodingFailed, message: "column \"\(column)\": \(error)")
        }
    }
}

/// The cells of a result, row-major, shared by its rows.
final class PostgresRowStorage: Sendable {
    let columns: [String]
    /// Column name to its first index (later duplicates are reachable by index only).
    let columnIndex: [String: Int]
    let cells: [String?]
    let rowCount: Int

    init(columns: [String], rowCount: Int, cells: [String?]) {
        self.columns = columns
        self.rowCount = rowCount
        var columnIndex: [String: Int] = [:]
        for (index, name) in columns.enumerated() where columnIndex[name] == nil {
            columnIndex[name] = index
        }
        self.columnIndex = columnIndex
        self.cells = cells
    }

    func cell(row: Int, column: Int) -> String? {
        self.cells[row * self.columns.count + column]
    }
}
