import Foundation
import Stretch

/// Per-token NLLs grouped into fixed-size position buckets, averaged over windows.
///
/// Positions are those of the *predicted* token: `nll[i]` (token `i+1` given tokens `0…i`) falls in
/// bucket `⌊(i+1)/size⌋`. Bucket `b` therefore covers tokens `b·size ..< (b+1)·size` of the window, and
/// bucket 0 has at most `size − 1` predictions because token 0 is never predicted.
public struct PositionBuckets: Sendable, Equatable {
    /// One bucket's statistics.
    public struct Bucket: Sendable, Equatable {
        /// First token position covered.
        public var start: Int
        /// One past the last token position covered.
        public var end: Int
        /// Scored predictions inside (summed over windows).
        public var count: Int
        /// Mean NLL of those predictions (nats).
        public var meanNLL: Double

        /// `exp(meanNLL)`.
        public var perplexity: Double { exp(meanNLL) }
    }

    /// Bucket width in tokens.
    public let size: Int
    /// Buckets holding at least one scored prediction, by position.
    public let buckets: [Bucket]

    /// The default bucket width for a model trained at `trainedContext`: `min(512, L/4)`, at least 1.
    public static func defaultSize(trainedContext: Int) -> Int { max(1, min(512, trainedContext / 4)) }

    /// Buckets `windows` (each an `nll` array with nil where not scored) into widths of `size`.
    public init(size: Int, windows: [[Double?]]) {
        precondition(size > 0, "bucket size must be positive")
        self.size = size
        var sums: [Int: (Double, Int)] = [:]
        for w in windows {
            for (i, v) in w.enumerated() {
                guard let v else { continue }
                let b = (i + 1) / size
                let s = sums[b] ?? (0, 0)
                sums[b] = (s.0 + v, s.1 + 1)
            }
        }
        buckets = sums.keys.sorted().map { b in
            let (sum, n) = sums[b]!
            return Bucket(start: b * size, end: (b + 1) * size, count: n, meanNLL: sum / Double(n))
        }
    }
}
