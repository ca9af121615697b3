/// Invalid generation requests.
public enum GenerationError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A sampling or generation parameter is out of range.
    case invalidParameter(name: String, value: String, requirement: String)
    /// The prompt is empty after tokenization and the model adds no BOS token.
    case emptyPrompt
    /// A ``BatchEngine``'s queue already holds `limit` requests waiting for a slot.
    case queueFull(limit: Int)

    public var description: String {
        switch self {
        case let .invalidParameter(name, value, requirement):
            return "invalid \(name) \(value): \(requirement)"
        case .emptyPrompt:
            return "the prompt is empty and the model has no BOS token to start from; give a non-empty prompt"
        case let .queueFull(limit):
            return "every slot is busy and \(limit) requests are already waiting; retry later"
        }
    }
}
