import Stretch

/// Invalid evaluation settings or inputs, with a message that says what to change.
public enum EvaluationError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The input has fewer tokens than one window needs.
    case inputTooShort(tokens: Int, needed: Int, detail: String)
    /// A setting is out of range or malformed.
    case invalidSetting(name: String, value: String, requirement: String)
    /// An input file could not be read or parsed.
    case unreadableInput(path: String, reason: String)
    /// An output file could not be written.
    case unwritableOutput(path: String, reason: String)

    public var description: String {
        switch self {
        case .inputTooShort(let tokens, let needed, let detail):
            return "the input has \(tokens) tokens but \(needed) are needed: \(detail)"
        case .invalidSetting(let name, let value, let requirement):
            return "invalid \(name) '\(value)': \(requirement)"
        case .unreadableInput(let path, let reason):
            return "cannot read \(path): \(reason)"
        case .unwritableOutput(let path, let reason):
            return "cannot write \(path): \(reason); check the folder exists and is writable"
        }
    }
}
