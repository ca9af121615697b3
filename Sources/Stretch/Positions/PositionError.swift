/// Invalid context-extension parameters or a sequence longer than a scheme allows.
public enum PositionError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A parameter is outside its valid range.
    case invalidParameter(scheme: String, parameter: String, value: String, requirement: String)
    /// The sequence needs more positions than the scheme keeps inside the trained context.
    case sequenceTooLong(tokens: Int, maximum: Int, detail: String)

    public var description: String {
        switch self {
        case let .invalidParameter(scheme, parameter, value, requirement):
            return "invalid \(scheme) parameter \(parameter)=\(value): \(requirement)"
        case let .sequenceTooLong(tokens, maximum, detail):
            return "\(tokens) tokens exceed the maximum of \(maximum): \(detail)"
        }
    }
}
