import Foundation

/// Generates text from a prompt with a model, a tokenizer and a position map, streaming pieces.
public final class TextGenerator {
    /// The model.
    public let model: LlamaModel
    /// Its tokenizer.
    public let tokenizer: Tokenizer
    /// Position map used by attention (plain RoPE or a context extension).
    public let positions: PositionMap
    /// Largest number of tokens (prompt + generated) a sequence may hold.
    public let contextSize: Int

    /// Creates a generator.
    public init(model: LlamaModel, tokenizer: Tokenizer, positions: PositionMap, contextSize: Int) {
        self.model = model
        self.tokenizer = tokenizer
        self.positions = positions
        self.contextSize = contextSize
    }

    /// Generates up to `maxTokens` tokens after `promptTokens`, calling `onText` with each piece of text.
    ///
    /// Stops on an end-of-generation token, a stop string, `maxTokens` (`< 0`: until the context is
    /// full) or the end of the context. The prompt must fit: an over-long prompt is an error, never cut.
    public func generate(
        promptTokens: [Int], maxTokens: Int, sampling: SamplingParameters, stop: [String] = [],
        onText: (String) -> Void
    ) throws -> GenerationStatistics {
        var sampler = try Sampler(sampling)
        guard !promptTokens.isEmpty else { throw GenerationError.emptyPrompt }
        guard promptTokens.count <= contextSize else {
            throw ModelError.contextExceeded(
                tokens: promptTokens.count, limit: contextSize,
                detail: "the prompt alone has \(promptTokens.count) tokens; raise -c or enable a context extension")
        }
        var stats = GenerationStatistics()
        let cache = model.makeCache(maxTokens: contextSize, positions: positions)
        let t0 = Date()
        var logits = try model.forward(promptTokens, cache: cache, positions: positions, logits: .last)
        stats.promptTokens = promptTokens.count
        stats.promptSeconds = Date().timeIntervalSince(t0)

        var history = promptTokens
        // A prompt with no text (only BOS/control tokens) means the output starts the text, so the space a
        // SentencePiece `add_space_prefix` vocabulary puts before the first word is dropped, as llama.cpp does.
        let startsText = tokenizer.decode(promptTokens).isEmpty
        var decoder = StreamingDecoder(tokenizer: tokenizer, stripLeadingSpace: startsText)
        var matcher = StopStringMatcher(stops: stop)
        let t1 = Date()
        var produced = 0
        loop: while maxTokens < 0 || produced < maxTokens {
            let next = sampler.sample(logits: logits, history: history)
            if tokenizer.isEndOfGeneration(next) {
                stats.stopReason = .endOfGeneration
                break
            }
            produced += 1
            history.append(next)
            let (text, hit) = matcher.feed(decoder.append(next))
            if !text.isEmpty { onText(text) }
            if hit {
                stats.stopReason = .stopString
                break loop
            }
            if cache.count >= contextSize {
                stats.stopReason = .contextFull
                break
            }
            if maxTokens >= 0 && produced >= maxTokens { break }
            logits = try model.forward([next], cache: cache, positions: positions, logits: .last)
        }
        if stats.stopReason != .stopString {
            let (text, _) = matcher.feed(decoder.flush())
            let rest = text + matcher.flush()
            if !rest.isEmpty { onText(rest) }
        }
        stats.generatedTokens = produced
        stats.generationSeconds = Date().timeIntervalSince(t1)
        return stats
    }
}
