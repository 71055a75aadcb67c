import Foundation

/// Decodes response bodies with Foundation's `JSONDecoder`, turning every failure into
/// `PlatformCallError.malformedResponse` that names the field (`orders[2].attendees[0].id`).
enum JSONBody {
    /// Decodes `type` from `bytes`; dates as ISO 8601 with or without fractional seconds.
    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], at prefix: String = "") throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = PlatformDate.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "'\(text)' is not an ISO 8601 timestamp")
            }
            return date
        }
        do {
            return try decoder.decode(type, from: Data(bytes))
        } catch let error as DecodingError {
            throw malformed(error, prefix: prefix)
        } catch {
            throw PlatformCallError.malformedResponse(field: prefix.isEmpty ? "body" : prefix, why: "\(error)")
        }
    }

    /// Encodes a request body (keys sorted, so bodies compare byte for byte in tests).
    static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding our own Encodable structs of strings and integers cannot fail.
        return (try? encoder.encode(value)).map(Array.init) ?? Array("{}".utf8)
    }

    private static func malformed(_ error: DecodingError, prefix: String) -> PlatformCallError {
        func field(_ path: [any CodingKey], _ extra: (any CodingKey)? = nil) -> String {
            let keys = path + (extra.map { [$0] } ?? [])
            var text = prefix
            for key in keys {
                if let index = key.intValue {
                    text += "[\(index)]"
                } else {
                    text += (text.isEmpty ? "" : ".") + key.stringValue
                }
            }
            return text.isEmpty ? "body" : text
        }
        switch error {
        case .keyNotFound(let key, let context):
            return .malformedResponse(field: field(context.codingPath, key), why: "missing")
        case .valueNotFound(let type, let context):
            return .malformedResponse(field: field(context.codingPath), why: "null where \(type) was expected")
        case .typeMismatch(let type, let context):
            return .malformedResponse(field: field(context.codingPath), why: "not a \(type)")
        case .dataCorrupted(let context):
            let why = context.codingPath.isEmpty ? "not JSON: \(context.debugDescription)" : context.debugDescription
            return .malformedResponse(field: field(context.codingPath), why: why)
        @unknown default:
            return .malformedResponse(field: field([]), why: "\(error)")
        }
    }
}
