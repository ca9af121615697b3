/// Timings and counts of one generation, printed like llama.cpp's performance summary.
public struct GenerationStatistics: Sendable, Equatable {
    /// Prompt tokens of the request.
    public var promptTokens = 0
    /// Prompt tokens whose keys and values were already in the session's cache (a reused prefix).
    public var cachedPromptTokens = 0
    /// Seconds spent on the prompt (only the tokens not reused).
    public var promptSeconds = 0.0
    /// Tokens generated.
    public var generatedTokens = 0
    /// Seconds spent generating (sampling included).
    public var generationSeconds = 0.0
    /// Seconds the request waited for a slot (``BatchEngine``; 0 for a session).
    public var queueSeconds = 0.0
    /// The ``BatchEngine`` slot that served the request (nil for a session).
    public var slot: Int?
    /// Why generation stopped.
    public var stopReason: StopReason = .maxTokens

    /// Why a generation ended.
    public enum StopReason: String, Sendable {
        /// An end-of-generation or stop token.
        case endOfGeneration = "eos"
        /// A stop string.
        case stopString = "stop"
        /// The token limit of the request.
        case maxTokens = "length"
        /// The session's context is full.
        case contextFull = "context"
        /// The consumer stopped listening (its task was cancelled).
        case cancelled = "cancelled"
    }

    /// Prompt tokens that were run through the model (not reused from the cache).
    public var prefilledTokens: Int { promptTokens - cachedPromptTokens }
    /// Prefilled tokens per second.
    public var promptTokensPerSecond: Double { promptSeconds > 0 ? Double(prefilledTokens) / promptSeconds : 0 }
    /// Generated tokens per second.
    public var generationTokensPerSecond: Double {
        generationSeconds > 0 ? Double(generatedTokens) / generationSeconds : 0
    }

    /// Empty statistics.
    public init() {}
}
