/// Problems loading or running a model that are not GGUF format errors.
public enum ModelError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The GGUF's architecture has no implementation.
    case unsupportedArchitecture(file: String, architecture: String, supported: [String])
    /// The file holds a tensor the architecture does not use: running without it would not be the model.
    case unusedTensor(file: String, tensor: String, architecture: String)
    /// A run would go past the context the model (and its position map) can hold.
    case contextExceeded(tokens: Int, limit: Int, detail: String)
    /// A token id outside the vocabulary.
    case invalidToken(id: Int, vocabularySize: Int)
    /// A load option is out of range.
    case invalidOption(name: String, value: String, requirement: String)
    /// A KV cache of `tokens` tokens would need more memory than the machine has available.
    /// `requestedBytes` counts every token and the cache's rings (``KVCacheFootprint/bytes(tokens:)``).
    case kvCacheTooLarge(tokens: Int, bytesPerToken: Int, requestedBytes: UInt64, availableBytes: Int)
    /// A KV cache made for another model shape than the one it is run with.
    case incompatibleCache(detail: String)

    public var description: String {
        switch self {
        case let .unsupportedArchitecture(file, architecture, supported):
            return "\(file): architecture '\(architecture)' is not supported yet (supported: \(supported.joined(separator: ", ")))"
        case let .unusedTensor(file, tensor, architecture):
            return "\(file): tensor '\(tensor)' is not used by architecture '\(architecture)'; "
                + "Stretch refuses to run a model without part of its weights"
        case let .contextExceeded(tokens, limit, detail):
            return "\(tokens) tokens exceed the context of \(limit) tokens: \(detail)"
        case let .invalidToken(id, vocabularySize):
            return "token id \(id) is outside the vocabulary (0..<\(vocabularySize))"
        case let .invalidOption(name, value, requirement):
            return "invalid \(name) \(value): \(requirement)"
        case let .kvCacheTooLarge(tokens, bytesPerToken, requestedBytes, availableBytes):
            return "a KV cache of \(tokens) tokens needs \(requestedBytes) bytes (\(bytesPerToken) per token), "
                + "more than the \(availableBytes) bytes of memory available; use a smaller context size"
        case let .incompatibleCache(detail):
            return "the KV cache does not fit this model: \(detail)"
        }
    }
}
