import Foundation

/// The context size a run will use, decided from the model, the position map and the requested size.
public struct ContextPlan: Sendable {
    /// Tokens the run may hold.
    public let contextSize: Int
    /// The scheme's own limit (N_max for Self-Extend), if it has one.
    public let maximum: Int?
    /// A warning to show the user (plain attention past the trained context), if any.
    public let warning: String?
    /// One line describing the effective context, printed at start-up.
    public let summary: String

    /// Resolves the context size.
    ///
    /// - `requested == nil` (or 0): the scheme's limit — the trained context `L` for plain attention,
    ///   `N_max` with Self-Extend — or `L` when the scheme has none.
    /// - Plain attention (and frequency scalings) above their limit run only when asked for, with a
    ///   warning (that is how baseline curves are made).
    /// - Self-Extend and leaky ReRoPE refuse more than `N_max`, naming L, W, G, N and N_max.
    public init(trainedContext: Int, requested: Int?, positions: PositionMap) throws {
        let L = trainedContext
        try positions.validate(trainedContext: L)
        let limit = positions.maxSequenceLength(trainedContext: L)
        maximum = limit
        let n = (requested ?? 0) > 0 ? requested! : (limit ?? L)
        contextSize = n
        if let limit, n > limit {
            if positions.refusesPastMaximum {
                throw PositionError.sequenceTooLong(
                    tokens: n, maximum: limit,
                    detail: positions.limitExplanation(trainedContext: L) + "; use a larger G or a smaller context")
            }
            // What happens past the limit depends on the model (docs/TOOLS.md, "Past the trained context"):
            // stories260K collapses, Qwen2.5-0.5B degrades slowly; the warning says so instead of predicting.
            warning = "warning: a context of \(n) tokens is above \(limit) tokens: "
                + "\(positions.limitExplanation(trainedContext: L)); how much quality drops past \(limit) tokens "
                + "depends on the model (a slow rise for some, a collapse for others)"
        } else {
            warning = nil
        }
        var text = "context: \(n) tokens (trained L=\(L); \(positions)"
        if let limit, !(positions is PlainPositions) { text += "; N_max=\(limit)" }
        if limit == nil { text += "; no length limit from positions" }
        let temperature = positions.logitTemperature(trainedContext: L, contextSize: n)
        if temperature != 1 { text += "; logits × \(String(format: "%.4f", temperature))" }
        summary = text + ")"
    }

    /// Checks that `tokens` fit, with a message naming the numbers.
    public func check(tokens: Int, what: String, positions: PositionMap, trainedContext: Int) throws {
        guard tokens <= contextSize else {
            throw PositionError.sequenceTooLong(
                tokens: tokens, maximum: contextSize,
                detail: "\(what) needs \(tokens) tokens but the context is \(contextSize) tokens; "
                    + positions.limitExplanation(trainedContext: trainedContext))
        }
    }
}
