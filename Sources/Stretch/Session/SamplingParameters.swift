/// How the next token is chosen. Defaults are llama.cpp's (`llama-cli`).
public struct SamplingParameters: Sendable, Equatable {
    /// Softmax temperature; `≤ 0` means greedy (argmax).
    public var temperature: Float = 0.8
    /// Keep only the `topK` most likely tokens (`≤ 0`: all).
    public var topK: Int = 40
    /// Keep the smallest set whose probability reaches `topP` (1: off).
    public var topP: Float = 0.95
    /// Drop tokens less likely than `minP` × the most likely one (0: off).
    public var minP: Float = 0.05
    /// Divide positive (multiply negative) logits of recently seen tokens by this (1: off).
    public var repetitionPenalty: Float = 1.0
    /// How many recent tokens the penalties look at (`-1`: the whole context).
    public var repetitionWindow: Int = 64
    /// Subtracted from the logit of every token seen in the window (OpenAI's `presence_penalty`; 0: off).
    public var presencePenalty: Float = 0
    /// Subtracted from a token's logit once per occurrence in the window (`frequency_penalty`; 0: off).
    public var frequencyPenalty: Float = 0
    /// Added to a token's logit before anything else (`logit_bias`); `-infinity` bans the token.
    public var logitBias: [Int: Float] = [:]
    /// Random seed; nil draws one from the system.
    public var seed: UInt64? = nil

    /// Creates parameters; every argument defaults to llama.cpp's value.
    public init(
        temperature: Float = 0.8, topK: Int = 40, topP: Float = 0.95, minP: Float = 0.05,
        repetitionPenalty: Float = 1.0, repetitionWindow: Int = 64, presencePenalty: Float = 0,
        frequencyPenalty: Float = 0, logitBias: [Int: Float] = [:], seed: UInt64? = nil
    ) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.repetitionWindow = repetitionWindow
        self.presencePenalty = presencePenalty
        self.frequencyPenalty = frequencyPenalty
        self.logitBias = logitBias
        self.seed = seed
    }

    /// Greedy decoding.
    public static let greedy = SamplingParameters(temperature: 0)

    /// Checks ranges, naming the offending parameter.
    public func validate() throws {
        func fail(_ name: String, _ value: Any, _ rule: String) -> GenerationError {
            .invalidParameter(name: name, value: "\(value)", requirement: rule)
        }
        guard temperature.isFinite else { throw fail("temperature", temperature, "must be a finite number") }
        guard topP > 0, topP <= 1 else { throw fail("top-p", topP, "must be in (0, 1]") }
        guard minP >= 0, minP <= 1 else { throw fail("min-p", minP, "must be in [0, 1]") }
        guard repetitionPenalty > 0, repetitionPenalty.isFinite else {
            throw fail("repetition penalty", repetitionPenalty, "must be > 0")
        }
        guard repetitionWindow >= -1 else { throw fail("repetition window", repetitionWindow, "must be ≥ -1") }
        guard presencePenalty.isFinite else { throw fail("presence penalty", presencePenalty, "must be a finite number") }
        guard frequencyPenalty.isFinite else {
            throw fail("frequency penalty", frequencyPenalty, "must be a finite number")
        }
        for (token, bias) in logitBias where bias.isNaN || bias == .infinity {
            throw fail("logit bias", "\(bias) for token \(token)", "must be a number or -infinity (a ban)")
        }
    }
}
