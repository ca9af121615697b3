import Foundation

/// Serves several generations at once on one model (continuous batching): N slots, each one sequence
/// with its own KV cache, and a queue of waiting requests.
///
/// ```swift
/// let engine = try BatchEngine(model: model, slots: 4)
/// for try await event in engine.submit(prompt: model.tokenizer.encode("Once upon a time")) {
///     print(event.text, terminator: "")
/// }
/// ```
///
/// One engine thread runs steps: each step samples a token for every slot whose logits are ready, then
/// runs ONE batched forward (``LlamaModel/forward(batch:logits:)``) with the new token of every generating
/// slot and prompt chunks of slots still prefilling (at most ``LoadOptions/batchSize`` tokens in all), so
/// the weights are read once per step for every stream. Each request has its own sampler, stop strings,
/// stop tokens and token limit, and its stream gets the events a ``Session`` would give
/// (``GenerationEvent``, statistics included); greedy outputs equal a session's.
///
/// A request takes the idle slot whose cached sequence shares the longest prefix with its prompt (only
/// the rest is prefilled, ``GenerationStatistics/cachedPromptTokens``), else the least recently used one;
/// when every slot is busy it waits in arrival order. Cancelling the consuming task frees the slot within
/// one step. The engine thread is a `Thread` of its own, never Swift's cooperative pool. Releasing the
/// engine lets the requests already submitted finish; the thread then ends.
public final class BatchEngine: Sendable {
    /// The model.
    public let model: LanguageModel
    /// The position map every slot's cache is made for (plain RoPE or a context extension).
    public let positions: PositionMap
    /// The context size of each slot, checked against the model and the map.
    public let plan: ContextPlan
    /// Number of slots (sequences decoded together).
    public let slotCount: Int
    private let core: BatchEngineCore

    /// Creates an engine with `slots` sequences; `contextSize` nil (or 0) takes the map's limit (`L`, or
    /// `N_max` with Self-Extend) for each slot. Caches grow with use, so memory follows the tokens held.
    public init(model: LanguageModel, slots: Int, positions: PositionMap = PlainPositions(), contextSize: Int? = nil) throws {
        guard slots >= 1 else {
            throw GenerationError.invalidParameter(name: "slots", value: "\(slots)", requirement: "must be at least 1")
        }
        self.model = model
        self.positions = positions
        slotCount = slots
        plan = try ContextPlan(trainedContext: model.trainedContext, requested: contextSize, positions: positions)
        let plan = self.plan
        let slotList = try (0..<slots).map {
            BatchSlot(index: $0, cache: try model.network.makeCache(maxTokens: plan.contextSize, positions: positions))
        }
        let core = BatchEngineCore(model: model, slots: slotList, contextSize: plan.contextSize)
        self.core = core
        let thread = Thread { core.run() }
        thread.name = "stretch.batch"
        thread.qualityOfService = .userInitiated
        thread.start()
    }

    /// Creates an engine with a context extension given as a spec (`"self-extend:G=4:W=1024"`, `"none"`;
    /// see ``PositionSpec``).
    public convenience init(model: LanguageModel, slots: Int, contextExtension spec: String, contextSize: Int? = nil) throws {
        try self.init(
            model: model, slots: slots, positions: PositionSpec.parse(spec, trainedContext: model.trainedContext),
            contextSize: contextSize)
    }

    deinit { core.stop() }

    /// Queues a generation after `prompt` (the whole sequence), streaming tokens and text, then a
    /// ``GenerationEvent/finished(_:)`` event.
    ///
    /// Errors (an empty prompt, a prompt that does not fit a slot's context, an invalid token or parameter)
    /// end the stream before any token, at submission.
    public func submit(
        prompt: [Int], parameters: GenerationParameters = GenerationParameters()
    ) -> AsyncThrowingStream<GenerationEvent, Error> {
        let (stream, continuation) = AsyncThrowingStream<GenerationEvent, Error>.makeStream()
        do {
            try parameters.validate()
            guard !prompt.isEmpty else { throw GenerationError.emptyPrompt }
            guard prompt.count <= plan.contextSize else {
                throw ModelError.contextExceeded(
                    tokens: prompt.count, limit: plan.contextSize,
                    detail: "the prompt alone has \(prompt.count) tokens; "
                        + positions.limitExplanation(trainedContext: model.trainedContext))
            }
            let vocab = model.network.config.vocabularySize
            for t in prompt where t < 0 || t >= vocab { throw ModelError.invalidToken(id: t, vocabularySize: vocab) }
            let request = BatchRequest(
                prompt: prompt, parameters: parameters, sampler: try Sampler(parameters.sampling),
                tokenizer: model.tokenizer, continuation: continuation)
            let core = self.core
            let flag = request.cancelled
            continuation.onTermination = { termination in
                if case .cancelled = termination {
                    flag.cancel()
                    core.wake()
                }
            }
            core.enqueue(request)
        } catch {
            continuation.finish(throwing: error)
        }
        return stream
    }

    /// Tokenizes `text` (with the model's BOS when it adds one; special-token text parsed) and queues a
    /// generation after it.
    public func submit(
        text: String, parameters: GenerationParameters = GenerationParameters()
    ) -> AsyncThrowingStream<GenerationEvent, Error> {
        submit(prompt: model.tokenizer.encode(text, addSpecial: true, parseSpecial: true), parameters: parameters)
    }

    /// Each slot's state and the number of waiting requests, as of the last step.
    public var snapshot: BatchEngineSnapshot { core.snapshot }
}
