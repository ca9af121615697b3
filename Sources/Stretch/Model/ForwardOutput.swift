/// Which logits a forward pass should produce.
public enum LogitsRequest: Sendable {
    /// Only the last token's logits (generation).
    case last
    /// Logits for every token of the batch (scoring, perplexity).
    case all
    /// No logits: only fill the cache (prefill chunks before the last).
    case none
}
