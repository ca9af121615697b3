import Foundation

/// Rotary position embedding (RoPE) as a model applies it: which pairs rotate and at what frequencies.
///
/// Positions are `Double` because some extension schemes (leaky ReRoPE, PI) use fractional positions.
public struct RotaryEmbedding: Sendable, Equatable {
    /// Which two elements of a head form a rotating pair.
    public enum Pairing: String, Sendable {
        /// `(x[2m], x[2m+1])`: Meta's original layout, GGUF `llama` (llama.cpp NORM mode).
        case adjacent
        /// `(x[m], x[m + d/2])`: "rotate half", GGUF `qwen2`, `gemma*` (llama.cpp NEOX mode).
        case halves
    }

    /// Number of leading head dimensions that rotate.
    public var dimensions: Int
    /// Frequency base θ.
    public var base: Double
    /// Pair layout.
    public var pairing: Pairing
    /// Linear position interpolation factor (positions are divided by it); 1 means none.
    public var linearScale: Double

    /// Creates a rotary embedding.
    public init(dimensions: Int, base: Double, pairing: Pairing, linearScale: Double = 1) {
        self.dimensions = dimensions
        self.base = base
        self.pairing = pairing
        self.linearScale = linearScale
    }

    /// Inverse frequency of pair `k`: `base^(-2k/dimensions)`.
    public func inverseFrequency(_ k: Int) -> Double {
        pow(base, -2.0 * Double(k) / Double(dimensions))
    }

    /// Fills `cos`/`sin` (each `dimensions/2` floats) with the rotation for `position`.
    public func table(position: Double, cos c: UnsafeMutablePointer<Float>, sin s: UnsafeMutablePointer<Float>) {
        let p = position / linearScale
        for k in 0..<(dimensions / 2) {
            let angle = p * inverseFrequency(k)
            c[k] = Float(Foundation.cos(angle))
            s[k] = Float(Foundation.sin(angle))
        }
    }

    /// Rotates `heads` consecutive heads of width `headDim` in place with a precomputed table.
    @inline(__always)
    public func apply(
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
