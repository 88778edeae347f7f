/// The error every TallyRandom initializer throws for an invalid parameter, instead of trapping.
///
/// Scenario files feed these parameters, so a bad value must surface as a readable error that names
/// the type and the offending value rather than crash a long generation run.
public struct ParameterError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A human-readable explanation naming the type, the parameter and its value.
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
