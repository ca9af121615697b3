import Foundation

/// The model's log-probability of a generated token and of its most likely alternatives.
///
/// Taken from the log-softmax of the raw logits at that step, before logit bias, penalties, truncation
/// and temperature: the model's own distribution, as OpenAI's `logprobs` reports it.
public struct TokenLogprobs: Sendable, Equatable {
    /// One token and its log-probability.
    public struct Candidate: Sendable, Equatable {
        /// The token id.
        public var id: Int
        /// Its natural-log probability.
        public var logprob: Float

        /// Creates a candidate.
        public init(id: Int, logprob: Float) {
            self.id = id
            self.logprob = logprob
        }
    }

    /// The token that was generated.
    public var chosen: Candidate
    /// The most likely tokens, most likely first (as many as ``GenerationParameters/logprobs`` asked).
    public var top: [Candidate]

    /// Creates the record of one step.
    public init(chosen: Candidate, top: [Candidate]) {
        self.chosen = chosen
        self.top = top
    }

    /// The log-probabilities of `token` and of the `count` most likely tokens under `logits`.
    public init(logits: [Float], token: Int, count: Int) {
        // log p_i = l_i - (m + log Σ exp(l_j - m)), in Double so that the sum over 150k logits stays exact.
        let m = logits.max() ?? 0
        var sum = 0.0
        for l in logits { sum += exp(Double(l - m)) }
        let logZ = Double(m) + log(sum)
        func candidate(_ id: Int) -> Candidate { Candidate(id: id, logprob: Float(Double(logits[id]) - logZ)) }
        chosen = candidate(token)
        top = count > 0 ? Sampler.topK(logits, min(count, logits.count)).map(candidate) : []
    }
}
