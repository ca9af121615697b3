/// A training-free extension that changes RoPE's angles instead of its positions (PI, NTK, YaRN).
public protocol FrequencyScaling: Sendable, CustomStringConvertible {
    /// The rotary embedding to use when the sequence will hold `sequenceLength` tokens.
    func scaled(_ rope: RotaryEmbedding, trainedContext: Int, sequenceLength: Int) -> RotaryEmbedding
    /// Longest sequence the scaling is meant for (nil: no fixed limit).
    func maxSequenceLength(trainedContext: Int) -> Int?
    /// Whether the angles depend on the sequence length (cached keys must then be re-rotated).
    var dependsOnSequenceLength: Bool { get }
}

extension FrequencyScaling {
    public var dependsOnSequenceLength: Bool { false }
}

extension FrequencyScaling {
    /// `factor` if it is a positive finite number, else the error naming `scheme` and its `S` parameter
    /// (the check every scale-factor scheme but YaRN, which needs S ≥ 1, shares).
    static func positiveFactor(_ factor: Double, scheme: String) throws -> Double {
        guard factor > 0, factor.isFinite else {
            throw PositionError.invalidParameter(scheme: scheme, parameter: "S", value: "\(factor)", requirement: "must be > 0")
        }
        return factor
    }
}
