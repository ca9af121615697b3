import Foundation

/// NTK-aware scaling: the base becomes `base · s^(D/(D−2))`, stretching low frequencies most.
public struct NTKScaling: FrequencyScaling, Equatable {
    /// Scale factor s (> 0).
    public let factor: Double

    /// Creates the scaling; `s` must be positive.
    public init(factor: Double) throws {
        self.factor = try Self.positiveFactor(factor, scheme: "ntk")
    }

    /// The inverse frequencies for a base multiplied by `alpha`.
    static func rebased(_ rope: RotaryEmbedding, alpha: Double) -> RotaryEmbedding {
        var r = rope
        let d = Double(rope.dimensions)
        let newBase = rope.base * pow(alpha, d / (d - 2))
        // Keep any linear factor already in the model's frequencies (ratio to the unscaled ones).
        r.inverseFrequencies = rope.inverseFrequencies.indices.map { k in
            let ratio = rope.inverseFrequencies[k] / rope.baseInverseFrequency(k)
            return pow(newBase, -2.0 * Double(k) / d) * ratio
        }
        return r
    }

    public func scaled(_ rope: RotaryEmbedding, trainedContext: Int, sequenceLength: Int) -> RotaryEmbedding {
        Self.rebased(rope, alpha: factor)
    }

    public func maxSequenceLength(trainedContext: Int) -> Int? { Int(Double(trainedContext) * factor) }
    public var description: String { "ntk:S=\(SpecNumber.format(factor))" }
}
