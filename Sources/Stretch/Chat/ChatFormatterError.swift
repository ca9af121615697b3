/// Failures of an explicitly requested chat template (defaults fall back with a warning instead).
public enum ChatFormatterError: Error, CustomStringConvertible, Sendable {
    /// The `--chat-template`/`--chat-template-file` override could not be used.
    case invalidOverride(String)

    /// A readable explanation.
    public var description: String {
        switch self {
        case .invalidOverride(let reason): return "invalid chat template override: \(reason)"
        }
    }
}
