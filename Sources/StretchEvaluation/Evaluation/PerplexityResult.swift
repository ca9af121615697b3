import Foundation
import Stretch

/// Perplexity of one scheme over one or more windows: per-token NLLs, buckets and llama.cpp's estimate.
public struct PerplexityResult: Sendable {
    /// The scheme the windows were scored with.
    public let scheme: ContextScheme
    /// One array per window: `nll[i]` is the NLL of token `i+1` given tokens `0…i`, nil where not scored.
    public let windows: [[Double?]]
    /// Seconds spent in the model.
    public let seconds: Double

    /// Creates a result.
    public init(scheme: ContextScheme, windows: [[Double?]], seconds: Double = 0) {
        self.scheme = scheme
        self.windows = windows
        self.seconds = seconds
    }

    private var scored: [Double] { windows.flatMap { $0.compactMap { $0 } } }

    /// Number of scored predictions.
    public var count: Int { windows.reduce(0) { $0 + $1.reduce(0) { $0 + ($1 == nil ? 0 : 1) } } }

    /// Mean NLL over every scored prediction (nats).
    public var meanNLL: Double {
        let s = scored
        return s.isEmpty ? .nan : s.reduce(0, +) / Double(s.count)
    }

    /// `exp(meanNLL)`.
    public var perplexity: Double { exp(meanNLL) }

    /// llama.cpp's uncertainty: `PPL · sqrt((E[nll²] − E[nll]²) / (count − 1))`.
    public var perplexityError: Double {
        let s = scored
        guard s.count > 1 else { return 0 }
        let n = Double(s.count)
        let m = s.reduce(0, +) / n
        let m2 = s.reduce(0) { $0 + $1 * $1 } / n
        let v = m2 - m * m
        return v > 0 ? perplexity * (v / (n - 1)).squareRoot() : 0
    }

    /// Per-position NLL averaged over windows (the token's own NLL when there is one window).
    public var positionNLL: [Double?] {
        guard let n = windows.map(\.count).max() else { return [] }
        return (0..<n).map { i in
            let vs = windows.compactMap { i < $0.count ? $0[i] : nil }
            return vs.isEmpty ? nil : vs.reduce(0, +) / Double(vs.count)
        }
    }

    /// The NLLs bucketed by position.
    public func buckets(size: Int) -> PositionBuckets { PositionBuckets(size: size, windows: windows) }

    /// llama.cpp's closing line: `Final estimate: PPL = X +/- Y`.
    public var finalEstimate: String {
        String(format: "Final estimate: PPL = %.4f +/- %.5f", perplexity, perplexityError)
    }
}
