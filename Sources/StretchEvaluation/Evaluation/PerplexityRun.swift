import Foundation
import Stretch

/// llama.cpp-style perplexity: non-overlapping windows of N tokens, each scored from an empty cache.
///
/// Window `k` is `tokens[k·N ..< (k+1)·N]`; when ``bosID`` is set its first token is replaced by BOS
/// (as `llama-perplexity` does for models that add one). In ``PerplexityScoreMode/half`` mode only
/// predictions `i ≥ N/2` count, so every scored token has at least N/2 tokens of context.
public struct PerplexityRun: Sendable {
    /// Window length N in tokens.
    public let windowSize: Int
    /// Number of windows to score.
    public let windowCount: Int
    /// Which predictions count.
    public let scoreMode: PerplexityScoreMode
    /// Token put first in every window (nil: windows are used as given).
    public let bosID: Int?

    /// Plans the windows over `tokenCount` tokens.
    ///
    /// - Parameters:
    ///   - windowSize: N; `0` means one window spanning the whole input.
    ///   - chunks: windows to score (nil: as many as fit); more than fit is an error naming both numbers.
    public init(tokenCount: Int, windowSize: Int, chunks: Int?, scoreMode: PerplexityScoreMode, bosID: Int?) throws {
        let n = windowSize == 0 ? tokenCount : windowSize
        guard windowSize >= 0 else {
            throw EvaluationError.invalidSetting(
                name: "window size", value: "\(windowSize)", requirement: "must be ≥ 0 (0 = whole input)")
        }
        if let chunks, chunks < 1 {
            throw EvaluationError.invalidSetting(name: "chunks", value: "\(chunks)", requirement: "must be ≥ 1")
        }
        let minimum = scoreMode == .half ? 4 : 2
        guard n >= minimum else {
            throw EvaluationError.inputTooShort(
                tokens: tokenCount, needed: minimum,
                detail:
                    "a window needs at least \(minimum) tokens to score anything in score mode \(scoreMode.rawValue)")
        }
        let fit = tokenCount / n
        guard fit >= 1 else {
            throw EvaluationError.inputTooShort(
                tokens: tokenCount, needed: n, detail: "one window of \(n) tokens does not fit; use a smaller window or more text")
        }
        if let chunks, chunks > fit {
            throw EvaluationError.inputTooShort(
                tokens: tokenCount, needed: chunks * n,
                detail: "\(chunks) windows of \(n) tokens need \(chunks * n) tokens; only \(fit) fit")
        }
        self.windowSize = n
        windowCount = chunks ?? fit
        self.scoreMode = scoreMode
        self.bosID = bosID
    }

    /// Index of the first scored prediction in each window.
    public var firstScored: Int { scoreMode.firstScored(windowSize: windowSize) }

    /// Scored predictions per window.
    public var scoredPerWindow: Int { windowSize - 1 - firstScored }

    /// Tokens each scheme runs through the model (for progress): `N − 1` per window.
    public var tokensPerScheme: Int { windowCount * (windowSize - 1) }

    /// The token ids of window `k`.
    public func window(_ k: Int, of tokens: [Int]) -> [Int] {
        var w = Array(tokens[(k * windowSize)..<((k + 1) * windowSize)])
        if let bosID { w[0] = bosID }
        return w
    }

    /// Scores every window with `scheme`; `progress` gets the tokens processed so far for this scheme.
    public func run(
        model: LlamaModel, tokens: [Int], scheme: ContextScheme, progress: ((Int) -> Void)? = nil
    ) throws -> PerplexityResult {
        let vocab = model.config.vocabularySize
        let positions = scheme.positions
        let first = firstScored
        let start = Date()
        var windows: [[Double?]] = []
        var done = 0
        for k in 0..<windowCount {
            let w = window(k, of: tokens)
            let cache = try model.makeCache(maxTokens: windowSize, positions: positions)
            var nll = [Double?](repeating: nil, count: windowSize - 1)
            // Unscored prefix: only fills the cache (the model computes one row of logits).
            if first > 0 {
                _ = try model.forward(Array(w[0..<first]), cache: cache, logits: .last)
                done += first
                progress?(done)
            }
            var i = first
            while i < windowSize - 1 {
                let n = min(model.batchSize, windowSize - 1 - i)
                let logits = try model.forward(Array(w[i..<(i + n)]), cache: cache, logits: .all)
                logits.withUnsafeBufferPointer { buf in
                    for t in 0..<n {
                        let row = buf.baseAddress! + t * vocab
                        nll[i + t] = VectorOps.logSumExp(row, vocab) - Double(row[w[i + t + 1]])
                    }
                }
                i += n
                done += n
                progress?(done)
            }
            windows.append(nll)
        }
        return PerplexityResult(scheme: scheme, windows: windows, seconds: Date().timeIntervalSince(start))
    }
}
