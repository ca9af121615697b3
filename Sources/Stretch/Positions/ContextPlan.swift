/// The context size a run will use, decided from the model, the position map and the user's `-c`.
public struct ContextPlan: Sendable {
    /// Tokens the run may hold.
    public let contextSize: Int
    /// A warning to show the user (plain attention past the trained context), if any.
    public let warning: String?
    /// One line describing the effective context, printed at start-up.
    public let summary: String

    /// Resolves the context size.
    ///
    /// - `requested == nil` (or 0): the trained context `L` for plain attention, `N_max` with an extension.
    /// - Plain attention above `L` runs only when asked for, with a warning (how baseline curves are made).
    /// - With an extension, asking for more than `N_max` is an error naming L, W, G, N and N_max.
    public init(trainedContext: Int, requested: Int?, positions: PositionMap) throws {
        let L = trainedContext
        if let se = positions as? SelfExtendPositions {
            try se.validate(trainedContext: L)
            let nMax = se.maxSequenceLength(trainedContext: L)!
            let n = (requested ?? 0) > 0 ? requested! : nMax
            guard n <= nMax else {
                throw PositionError.sequenceTooLong(
                    tokens: n, maximum: nMax,
                    detail: "Self-Extend with G=\(se.groupSize), W=\(se.window) on a model trained at L=\(L) reaches "
                        + "N_max = G·(L − W + ⌊W/G⌋) = \(nMax) tokens; use a larger G (-gan) or a smaller -c")
            }
            contextSize = n
            warning = nil
            summary = "context: \(n) tokens (trained L=\(L); self-extend G=\(se.groupSize) W=\(se.window) reaches N_max=\(nMax))"
            return
        }
        let n = (requested ?? 0) > 0 ? requested! : L
        contextSize = n
        if n > L {
            warning = "warning: -c \(n) is above the trained context \(L) with plain attention; "
                + "quality will collapse past \(L) tokens (use --grp-attn-n/--grp-attn-w for Self-Extend)"
        } else {
            warning = nil
        }
        summary = "context: \(n) tokens (trained L=\(L); \(positions))"
    }
}
