/// The per-token part of one generation, shared by ``Session`` and ``BatchEngine`` so that both make the
/// same decisions: sample, end and stop tokens, the token limit, UTF-8 assembly, stop strings, a full
/// context. The caller owns the cache and the history and runs the model.
struct TokenGeneration {
    let parameters: GenerationParameters
    let tokenizer: Tokenizer
    /// Tokens the cache holds at most.
    let contextSize: Int
    private(set) var sampler: Sampler
    private var decoder: StreamingDecoder
    private var matcher: StopStringMatcher
    /// Tokens emitted so far.
    private(set) var produced = 0

    /// What one step decided.
    struct Step {
        /// The sampled token (nil when the token limit was already reached), already handed to `record`;
        /// the caller runs it through the model unless `stop` is set.
        var token: Int?
        /// Why the generation ends here, if it does.
        var stop: GenerationStatistics.StopReason?
    }

    /// Starts a generation after `prompt`; validates the parameters.
    init(prompt: [Int], parameters: GenerationParameters, tokenizer: Tokenizer, contextSize: Int) throws {
        try parameters.validate()
        self.parameters = parameters
        self.tokenizer = tokenizer
        self.contextSize = contextSize
        sampler = try Sampler(parameters.sampling)
        // A prompt with no text (only BOS/control tokens) means the output starts the text, so the space a
        // SentencePiece `add_space_prefix` vocabulary puts before the first word is dropped, as llama.cpp does.
        decoder = StreamingDecoder(tokenizer: tokenizer, stripLeadingSpace: tokenizer.decode(prompt).isEmpty)
        matcher = StopStringMatcher(stops: parameters.stop)
    }

    /// Chooses the token after `logits`, hands it to `record` (the caller's history) and then emits it, so
    /// that a consumer that sees the token finds it in the history; `cachedTokens` is what the cache holds
    /// now (the chosen token would be one more).
    mutating func step(
        logits: [Float], history: [Int], cachedTokens: Int, record: (Int) -> Void, emit: (GenerationEvent) -> Void
    ) -> Step {
        let maxTokens = parameters.maxTokens
        if maxTokens >= 0 && produced >= maxTokens { return Step(token: nil, stop: .maxTokens) }
        let next = sampler.sample(logits: logits, history: history)
        record(next)
        if !parameters.ignoreEndOfGeneration && tokenizer.isEndOfGeneration(next)
            || parameters.stopTokens.contains(next) {
            return Step(token: next, stop: .endOfGeneration)
        }
        produced += 1
        if let n = parameters.logprobs { emit(.logprobs(TokenLogprobs(logits: logits, token: next, count: n))) }
        let (text, hit) = matcher.feed(decoder.append(next))
        emit(.token(id: next, text: text))
        if hit { return Step(token: next, stop: .stopString) }
        if cachedTokens + 1 > contextSize { return Step(token: next, stop: .contextFull) }
        if maxTokens >= 0 && produced >= maxTokens { return Step(token: next, stop: .maxTokens) }
        return Step(token: next, stop: nil)
    }

    /// Emits the text held back (a partial stop string that never completed, a trailing partial
    /// character), unless a stop string ended the generation.
    mutating func finish(_ reason: GenerationStatistics.StopReason, emit: (GenerationEvent) -> Void) {
        guard reason != .stopString else { return }
        let rest = matcher.feed(decoder.flush()).emit + matcher.flush()
        if !rest.isEmpty { emit(.text(rest)) }
    }
}
