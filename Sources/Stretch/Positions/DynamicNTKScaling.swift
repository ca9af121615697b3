/// Dynamic NTK: no change up to `L`; past it the base becomes `base · ((s·N/L) − (s − 1))^(D/(D−2))` for the
/// current length N, recomputed as the sequence grows (cached keys are re-rotated, so chunked prefill and
/// decode equal a one-shot pass over the same tokens).
public struct DynamicNTKScaling: FrequencyScaling, Equatable {
    /// Scale factor s (> 0); 1 by default.
    public let factor: Double

    /// Creates the scaling; `s` must be positive.
    public init(factor: Double = 1) throws {
        self.factor = try Self.positiveFactor(factor, scheme: "dynamic-ntk")
    }

    public var dependsOnSequenceLength: Bool { true }

    public func scaled(_ rope: RotaryEmbedding, trainedContext: Int, sequenceLength: Int) -> RotaryEmbedding {
        guard sequenceLength > trainedContext else { return rope }
        let alpha = factor * Double(sequenceLength) / Double(trainedContext) - (factor - 1)
        return NTKScaling.rebased(rope, alpha: alpha)
    }

    public func maxSequenceLength(trainedContext: Int) -> Int? { nil }
    public var description: String { "dynamic-ntk:S=\(SpecNumber.format(factor))" }
}
