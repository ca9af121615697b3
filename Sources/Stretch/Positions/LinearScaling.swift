/// Position interpolation (PI): every angle divided by `s`, so `s·L` positions fit in the trained range.
public struct LinearScaling: FrequencyScaling, Equatable {
    /// Interpolation factor s (> 0).
    public let factor: Double

    /// Creates the scaling; `s` must be positive.
    public init(factor: Double) throws {
        self.factor = try Self.positiveFactor(factor, scheme: "linear")
    }

    public func scaled(_ rope: RotaryEmbedding, trainedContext: Int, sequenceLength: Int) -> RotaryEmbedding {
        var r = rope
        r.inverseFrequencies = rope.inverseFrequencies.map { $0 / factor }
        return r
    }

    public func maxSequenceLength(trainedContext: Int) -> Int? { Int(Double(trainedContext) * factor) }
    public var description: String { "linear:S=\(SpecNumber.format(factor))" }
}
