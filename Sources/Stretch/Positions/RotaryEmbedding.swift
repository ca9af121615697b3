import Foundation

/// Rotary position embedding (RoPE) as a model applies it: which pairs rotate and at what frequencies.
///
/// Positions are `Double` because some extension schemes (leaky ReRoPE, PI) use fractional positions.
/// Frequency-scaling schemes (PI, NTK, YaRN) produce a new value with other ``inverseFrequencies``.
public struct RotaryEmbedding: Sendable, Equatable {
    /// Which two elements of a head form a rotating pair.
    public enum Pairing: String, Sendable {
        /// `(x[2m], x[2m+1])`: Meta's original layout, GGUF `llama` (llama.cpp NORM mode).
        case adjacent
        /// `(x[m], x[m + d/2])`: "rotate half", GGUF `qwen2`, `gemma*` (llama.cpp NEOX mode).
        case halves
    }

    /// Number of leading head dimensions that rotate.
    public let dimensions: Int
    /// Frequency base θ of the unscaled model.
    public let base: Double
    /// Pair layout.
    public let pairing: Pairing
    /// Angle per position of each pair, `dimensions / 2` values (after any frequency scaling).
    public var inverseFrequencies: [Double]
    /// Factor on attention logits that comes with a scaling; 1 otherwise (no built-in scheme sets it now).
    public var logitScale: Double = 1
    /// Factor on every cosine and sine (YaRN's `0.1·ln s + 1`, LongRoPE's attention factor, as llama.cpp and
    /// transformers apply them: to the rotated dimensions of queries and keys only); 1 otherwise.
    public var rotationScale: Double = 1

    /// Creates a rotary embedding with `θ_k = base^(−2k/dimensions)`, optionally divided by a linear
    /// interpolation factor (GGUF `rope.scaling.type = linear`).
    public init(dimensions: Int, base: Double, pairing: Pairing, linearScale: Double = 1) {
        self.dimensions = dimensions
        self.base = base
        self.pairing = pairing
        self.inverseFrequencies = (0..<(dimensions / 2)).map {
            pow(base, -2.0 * Double($0) / Double(dimensions)) / linearScale
        }
    }

    /// The same embedding with pair `k`'s angle divided by `factors[k]` (GGUF `rope_freqs.weight`,
    /// `rope_factors_long/short.weight`: Llama 3's and LongRoPE's per-frequency factors, as llama.cpp applies them).
    public func dividingFrequencies(by factors: [Float]) -> RotaryEmbedding {
        precondition(factors.count == inverseFrequencies.count, "one factor per rotating pair")
        var r = self
        r.inverseFrequencies = zip(inverseFrequencies, factors).map { $0 / Double($1) }
        return r
    }

    /// Unscaled inverse frequency of pair `k`: `base^(−2k/dimensions)`.
    public func baseInverseFrequency(_ k: Int) -> Double {
        pow(base, -2.0 * Double(k) / Double(dimensions))
    }

    /// The rotation for `position`: `dimensions/2` cosines and sines, one per pair.
    public func table(position: Double) -> (cos: [Float], sin: [Float]) {
        var c = [Float](repeating: 0, count: inverseFrequencies.count)
        var s = c
        c.withUnsafeMutableBufferPointer { cb in
            s.withUnsafeMutableBufferPointer { sb in table(position: position, cos: cb.baseAddress!, sin: sb.baseAddress!) }
        }
        return (c, s)
    }

    /// Fills `cos`/`sin` (each `dimensions/2` floats) with the rotation for `position`.
    package func table(position: Double, cos c: UnsafeMutablePointer<Float>, sin s: UnsafeMutablePointer<Float>) {
        for k in 0..<inverseFrequencies.count {
            let angle = position * inverseFrequencies[k]
            c[k] = Float(Foundation.cos(angle) * rotationScale)
            s[k] = Float(Foundation.sin(angle) * rotationScale)
        }
    }

    /// Rotates `heads` consecutive heads of width `headDim` in place with a precomputed table.
    @inline(__always)
    package func apply(
        _ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int,
        cos c: UnsafePointer<Float>, sin s: UnsafePointer<Float>
    ) {
        let half = dimensions / 2
        for h in 0..<heads {
            let v = x + h * headDim
            switch pairing {
            case .adjacent:
                for k in 0..<half {
                    let a = v[2 * k], b = v[2 * k + 1]
                    v[2 * k] = a * c[k] - b * s[k]
                    v[2 * k + 1] = a * s[k] + b * c[k]
                }
            case .halves:
                for k in 0..<half {
                    let a = v[k], b = v[k + half]
                    v[k] = a * c[k] - b * s[k]
                    v[k + half] = a * s[k] + b * c[k]
                }
            }
        }
    }
}
