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
    /// How many recent tokens the repetition penalty looks at (`-1`: the whole context).
    public var repetitionWindow: Int = 64
    /// Random seed; nil draws one from the system.
    public var seed: UInt64? = nil

    /// Creates parameters; every argument defaults to llama.cpp's value.
    public init(
        temperature: Float = 0.8, topK: Int = 40, topP: Float = 0.95, minP: Float = 0.05,
        repetitionPenalty: Float = 1.0, repetitionWindow: Int = 64, seed: UInt64? = nil
    ) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.repetitionWindow = repetitionWindow
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
    }
}
