import Foundation

/// YaRN: per-frequency ramp between interpolated (`θ_k/s`) and original angles, with cos and sin scaled by
/// `0.1·ln s + 1` (logits by its square when every dimension rotates; only the rotated dimensions with a
/// partial rotary, as llama.cpp and transformers apply it). Wavelengths shorter than L/β_fast keep their angles; longer than L/β_slow are
/// fully interpolated.
public struct YaRNScaling: FrequencyScaling, Equatable {
    /// Scale factor s (≥ 1).
    public let factor: Double
    /// Rotations within L above which a pair keeps its angle (32 by default).
    public let betaFast: Double
    /// Rotations within L below which a pair is fully interpolated (1 by default).
    public let betaSlow: Double
    /// Context the original model was trained at (default: the model's L).
    public let originalContext: Int?

    /// Creates the scaling, validating `s ≥ 1` and `β_fast > β_slow > 0`.
    public init(factor: Double, betaFast: Double = 32, betaSlow: Double = 1, originalContext: Int? = nil) throws {
        guard factor >= 1, factor.isFinite else {
            throw PositionError.invalidParameter(scheme: "yarn", parameter: "S", value: "\(factor)", requirement: "must be ≥ 1")
        }
        guard betaSlow > 0, betaFast > betaSlow else {
            throw PositionError.invalidParameter(
                scheme: "yarn", parameter: "BF/BS", value: "\(betaFast)/\(betaSlow)", requirement: "need β_fast > β_slow > 0")
        }
        self.factor = factor
        self.betaFast = betaFast
        self.betaSlow = betaSlow
        self.originalContext = originalContext
    }

    public func scaled(_ rope: RotaryEmbedding, trainedContext: Int, sequenceLength: Int) -> RotaryEmbedding {
        let L = Double(originalContext ?? trainedContext)
        let d = Double(rope.dimensions)
        func correctionDim(_ rotations: Double) -> Double {
            d * log(L / (rotations * 2 * Double.pi)) / (2 * log(rope.base))
        }
        let low = max(0, floor(correctionDim(betaFast)))
        var high = min(d - 1, ceil(correctionDim(betaSlow)))
        if high == low { high += 0.001 }
        var r = rope
        r.inverseFrequencies = rope.inverseFrequencies.indices.map { k in
            let ramp = min(1, max(0, (Double(k) - low) / (high - low)))
            let keep = 1 - ramp
            let original = rope.inverseFrequencies[k]
            return original / factor * (1 - keep) + original * keep
        }
        let mscale = factor > 1 ? 0.1 * log(factor) + 1 : 1
        r.rotationScale = rope.rotationScale * mscale
        return r
    }

    public func maxSequenceLength(trainedContext: Int) -> Int? {
        Int(Double(originalContext ?? trainedContext) * factor)
    }

    public var description: String { "yarn:S=\(SpecNumber.format(factor)):BF=\(SpecNumber.format(betaFast)):BS=\(SpecNumber.format(betaSlow))" }
}
