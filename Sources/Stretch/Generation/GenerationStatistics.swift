/// Timings and counts of one generation, printed like llama.cpp's performance summary.
public struct GenerationStatistics: Sendable {
    /// Prompt tokens processed.
    public var promptTokens = 0
    /// Seconds spent on the prompt.
    public var promptSeconds = 0.0
    /// Tokens generated.
    public var generatedTokens = 0
    /// Seconds spent generating (sampling included).
    public var generationSeconds = 0.0
    /// Why generation stopped.
    public var stopReason: StopReason = .maxTokens

    /// Why a generation ended.
    public enum StopReason: String, Sendable {
        case endOfGeneration = "eos"
        case stopString = "stop"
        case maxTokens = "length"
        case contextFull = "context"
    }

    /// Prompt tokens per second.
    public var promptTokensPerSecond: Double { promptSeconds > 0 ? Double(promptTokens) / promptSeconds : 0 }
    /// Generated tokens per second.
    public var generationTokensPerSecond: Double {
        generationSeconds > 0 ? Double(generatedTokens) / generationSeconds : 0
    }

    public init() {}
}
