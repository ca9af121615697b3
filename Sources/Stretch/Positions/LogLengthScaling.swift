import Foundation

/// Log-length attention scaling: query `i`'s logits grow with its position, so attention does not flatten
/// as the number of keys grows (selectable on any scheme with `:logn=…`).
public enum LogLengthScaling: String, Sendable, Equatable, CaseIterable {
    /// `max(1, ln(i+1)/ln L)` on every layer (`logn=1`).
    case logN = "1"
    /// Entropy-aware scaling (arXiv 2401.07004, as its code applies it): `max(1, ln(i+1)/ln L)` on every
    /// layer but the first two (`logn=entropy`).
    case entropyAware = "entropy"
    /// Log-length scaled attention (arXiv 2202.12172): logits × `ln(i+1)`, the log of the number of keys
    /// query `i` attends to, on every layer (`logn=length`).
    case logLength = "length"

    /// The factor on query `i`'s logits for a model trained at `trainedContext` tokens.
    public func factor(position i: Int, trainedContext: Int) -> Double {
        switch self {
        case .logN, .entropyAware:
            guard trainedContext > 1 else { return 1 }
            return max(1, log(Double(i + 1)) / log(Double(trainedContext)))
        case .logLength:
            return log(Double(i + 1))
        }
    }

    /// Leading layers left unscaled.
    public var unscaledLeadingLayers: Int { self == .entropyAware ? 2 : 0 }
}
