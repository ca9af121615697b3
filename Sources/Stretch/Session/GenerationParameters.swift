/// What one generation may produce and when it stops.
public struct GenerationParameters: Sendable, Equatable {
    /// Most tokens to generate; `-1`: until an end token, a stop string or a full context.
    public var maxTokens: Int
    /// How each token is chosen.
    public var sampling: SamplingParameters
    /// Texts that end the generation; neither they nor anything after them is emitted.
    public var stop: [String]
    /// Token ids that end the generation besides the vocabulary's end-of-generation tokens (for example a
    /// chat template's end-of-turn token); they are not emitted.
    public var stopTokens: Set<Int>
    /// Keep generating through end-of-generation tokens (they are then emitted like any other token).
    public var ignoreEndOfGeneration: Bool
    /// Send a ``GenerationEvent/logprobs(_:)`` event before each token with this many most likely
    /// alternatives (0: the token's own only; nil: none).
    public var logprobs: Int?

    /// Creates parameters; by default samples as llama.cpp does until an end token or a full context.
    public init(
        maxTokens: Int = -1, sampling: SamplingParameters = SamplingParameters(), stop: [String] = [],
        stopTokens: Set<Int> = [], ignoreEndOfGeneration: Bool = false, logprobs: Int? = nil
    ) {
        self.maxTokens = maxTokens
        self.sampling = sampling
        self.stop = stop
        self.stopTokens = stopTokens
        self.ignoreEndOfGeneration = ignoreEndOfGeneration
        self.logprobs = logprobs
    }

    /// Checks the ranges.
    public func validate() throws {
        try sampling.validate()
        guard maxTokens >= -1 else {
            throw GenerationError.invalidParameter(name: "max tokens", value: "\(maxTokens)", requirement: "must be ≥ -1")
        }
        if let n = logprobs, n < 0 {
            throw GenerationError.invalidParameter(name: "logprobs", value: "\(n)", requirement: "must be ≥ 0")
        }
    }
}
