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
/// stop tokens, token limit and, if it names one, context extension; its stream gets the events a
/// ``Session`` would give (``GenerationEvent``, statistics included) plus
/// ``GenerationEvent/assigned(slot:)``; greedy outputs equal a session's.
///
/// A request takes the idle slot whose cached sequence (with the same position map) shares the longest
/// prefix with its prompt (only the rest is prefilled, ``GenerationStatistics/cachedPromptTokens``), else
/// the least recently used one; when every slot is busy it waits in arrival order. Cancelling the
/// consuming task frees the slot within one step. The engine thread is a `Thread` of its own, never
/// Swift's cooperative pool. Releasing the engine lets the requests already submitted finish; the thread
/// then ends.
public final class BatchEngine: Sendable {
    /// The model.
    public let model: LanguageModel
    /// The position map of a request that names none (plain RoPE or a context extension).
    public let positions: PositionMap
    /// The context size of each slot with ``positions``, checked against the model and the map.
    public let plan: ContextPlan
    /// Number of slots (sequences decoded together).
    public let slotCount: Int
    /// Requests that may wait for a slot (nil: no bound); one more is refused at submission.
    public let maxWaiting: Int?
    /// The context size asked for at creation (nil: each map's limit).
    private let requestedContext: Int?
    private let core: BatchEngineCore

    /// Creates an engine with `slots` sequences of `contextSize` tokens each; a position map whose limit
    /// (`L` for plain RoPE, `N_max` with Self-Extend) is smaller gets its limit, and nil (or 0) takes the
    /// limit (`L` for a map without one, such as DCA). Caches grow with use, so memory follows the tokens held. `maxWaiting` bounds the queue of
    /// requests waiting for a slot.
    public init(
        model: LanguageModel, slots: Int, positions: PositionMap = PlainPositions(), contextSize: Int? = nil,
        maxWaiting: Int? = nil
    ) throws {
        guard slots >= 1 else {
            throw GenerationError.invalidParameter(name: "slots", value: "\(slots)", requirement: "must be at least 1")
        }
        if let maxWaiting, maxWaiting < 0 {
            throw GenerationError.invalidParameter(
                name: "queue size", value: "\(maxWaiting)", requirement: "must be ≥ 0")
        }
        self.model = model
        self.positions = positions
        slotCount = slots
        self.maxWaiting = maxWaiting
        let requested = (contextSize ?? 0) > 0 ? contextSize : nil
        requestedContext = requested
        plan = try ContextPlan(
            trainedContext: model.trainedContext,
            requested: try Self.clamp(requested, model: model, positions: positions), positions: positions)
        let plan = self.plan
        let slotList = try (0..<slots).map {
            BatchSlot(
                index: $0, cache: try model.network.makeCache(maxTokens: plan.contextSize, positions: positions),
                spec: positions.description)
        }
        let core = BatchEngineCore(model: model, slots: slotList, maxWaiting: maxWaiting)
        self.core = core
        let thread = Thread { core.run() }
        thread.name = "stretch.batch"
        thread.qualityOfService = .userInitiated
        thread.start()
    }

    /// Creates an engine with a context extension given as a spec (`"self-extend:G=4:W=1024"`, `"none"`;
    /// see ``PositionSpec``).
    public convenience init(
        model: LanguageModel, slots: Int, contextExtension spec: String, contextSize: Int? = nil,
        maxWaiting: Int? = nil
    ) throws {
        try self.init(
            model: model, slots: slots, positions: PositionSpec.parse(spec, trainedContext: model.trainedContext),
            contextSize: contextSize, maxWaiting: maxWaiting)
    }

    deinit { core.stop() }

    /// The context size a slot has for `positions`: the size asked for at creation when the map allows
    /// it, else the map's limit.
    public func contextSize(for positions: PositionMap) throws -> Int {
        if positions.description == self.positions.description { return plan.contextSize }
        return try ContextPlan(
            trainedContext: model.trainedContext,
            requested: try Self.clamp(requestedContext, model: model, positions: positions), positions: positions
        ).contextSize
    }

    private static func clamp(_ requested: Int?, model: LanguageModel, positions: PositionMap) throws -> Int {
        let widest = try ContextPlan(trainedContext: model.trainedContext, requested: nil, positions: positions)
        // A map without a limit (DCA, ReRoPE) takes the size asked for.
        guard widest.maximum != nil else { return requested ?? widest.contextSize }
        return min(requested ?? widest.contextSize, widest.contextSize)
    }

    /// Queues a generation after `prompt` (the whole sequence), streaming tokens and text, then a
    /// ``GenerationEvent/finished(_:)`` event.
    ///
    /// - Parameters:
    ///   - positions: the position map of the slot's cache (nil: ``positions``); a slot made for another
    ///     map gets a new cache.
    ///   - reusePrefix: whether a cached prefix may be reused (false: the prompt runs from its start).
    ///
    /// Errors (an empty prompt, a prompt that does not fit a slot's context, an invalid token or parameter,
    /// a full queue) end the stream before any token, at submission.
    public func submit(
        prompt: [Int], parameters: GenerationParameters = GenerationParameters(), positions: PositionMap? = nil,
        reusePrefix: Bool = true
    ) -> AsyncThrowingStream<GenerationEvent, Error> {
        let (stream, continuation) = AsyncThrowingStream<GenerationEvent, Error>.makeStream()
        do {
            let positions = positions ?? self.positions
            let contextSize = try self.contextSize(for: positions)
            guard !prompt.isEmpty else { throw GenerationError.emptyPrompt }
            guard prompt.count <= contextSize else {
                throw ModelError.contextExceeded(
                    tokens: prompt.count, limit: contextSize,
                    detail: "the prompt alone has \(prompt.count) tokens; "
                        + positions.limitExplanation(trainedContext: model.trainedContext))
            }
            let vocab = model.network.config.vocabularySize
            for t in prompt where t < 0 || t >= vocab { throw ModelError.invalidToken(id: t, vocabularySize: vocab) }
            let generation = try TokenGeneration(
                prompt: prompt, parameters: parameters, tokenizer: model.tokenizer, contextSize: contextSize)
            let request = BatchRequest(
                prompt: prompt, positions: positions, contextSize: contextSize, reusePrefix: reusePrefix,
                generation: generation, continuation: continuation)
            let core = self.core
            let flag = request.cancelled
            continuation.onTermination = { termination in
                if case .cancelled = termination {
                    flag.cancel()
                    core.wake()
                }
            }
            try core.enqueue(request)
        } catch {
            continuation.finish(throwing: error)
        }
        return stream
    }

    /// ``submit(prompt:parameters:positions:reusePrefix:)`` with a context extension given as a spec.
    public func submit(
        prompt: [Int], parameters: GenerationParameters = GenerationParameters(), contextExtension spec: String,
        reusePrefix: Bool = true
    ) -> AsyncThrowingStream<GenerationEvent, Error> {
        do {
            let positions = try PositionSpec.parse(spec, trainedContext: model.trainedContext)
            return submit(prompt: prompt, parameters: parameters, positions: positions, reusePrefix: reusePrefix)
        } catch {
            return AsyncThrowingStream { $0.finish(throwing: error) }
        }
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
