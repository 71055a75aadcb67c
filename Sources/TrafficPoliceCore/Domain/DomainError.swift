/// Input that breaks a rule of the domain (a bad capacity, ratio, split or id), with a message for a person.
public struct DomainError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
