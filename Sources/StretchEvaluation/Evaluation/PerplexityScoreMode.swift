import Stretch

/// Which predictions of a window count towards perplexity.
public enum PerplexityScoreMode: String, Sendable, CaseIterable {
    /// llama.cpp's default: only the second half of each window (every prediction has ≥ N/2 tokens of context).
    case half
    /// Every prediction of the window, from the first token on.
    case all

    /// Index of the first scored prediction in a window of `windowSize` tokens (`nll[i]` predicts token `i+1`).
    public func firstScored(windowSize n: Int) -> Int {
        switch self {
        case .half: return n / 2
        case .all: return 0
        }
    }
}
