import Dispatch

/// One submitted generation while it waits for a slot or runs in one.
// @unchecked Sendable: created by `BatchEngine.submit`, handed to the engine thread through the engine's
// locked queue, and from then on read and written only on that thread (the flag is atomic).
final class BatchRequest: @unchecked Sendable {
    let prompt: [Int]
    let parameters: GenerationParameters
    let continuation: AsyncThrowingStream<GenerationEvent, Error>.Continuation
    let cancelled = CancellationFlag()
    var sampler: Sampler
    var decoder: StreamingDecoder
    var matcher: StopStringMatcher
    var statistics = GenerationStatistics()
    /// Prompt tokens in the slot's cache so far.
    var prefilled = 0
    var produced = 0
    /// When the request got a slot, and when its prompt was done.
    var started = DispatchTime.now()
    var generationStarted = DispatchTime.now()

    init(
        prompt: [Int], parameters: GenerationParameters, sampler: Sampler, tokenizer: Tokenizer,
        continuation: AsyncThrowingStream<GenerationEvent, Error>.Continuation
    ) {
        self.prompt = prompt
        self.parameters = parameters
        self.sampler = sampler
        self.continuation = continuation
        statistics.promptTokens = prompt.count
        // As `Session`: a prompt with no text means the output starts the text (no SentencePiece space).
        decoder = StreamingDecoder(tokenizer: tokenizer, stripLeadingSpace: tokenizer.decode(prompt).isEmpty)
        matcher = StopStringMatcher(stops: parameters.stop)
    }
}
