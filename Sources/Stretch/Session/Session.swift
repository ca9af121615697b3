import Dispatch
import Foundation

/// One sequence on a model: its KV cache (made for one position map, for life), its token history, and
/// the generations run on it, one at a time, on the session's own thread.
///
/// ```swift
/// let session = try Session(model: model, contextExtension: "self-extend:G=4:W=1024")
/// for try await event in session.generate(prompt: model.tokenizer.encode("Once upon a time")) {
///     print(event.text, terminator: "")
/// }
/// ```
///
/// A new prompt that starts with tokens already in the cache reuses them: the cache is cut back to the
/// longest common prefix and only the rest is prefilled (``GenerationStatistics/cachedPromptTokens``).
/// Cancelling the task that consumes a stream stops decoding before the next token; the session stays
/// usable. Generations queue up in order of their `generate` calls.
///
/// The engine's work (prefill, decode, sampling) runs on a serial dispatch queue owned by the session,
/// never on Swift's cooperative thread pool; the model's worker threads share each matrix product.
public final class Session: @unchecked Sendable {
    // @unchecked Sendable: `cache`, `lastLogits` and `history` are written only by work items on `queue`
    // (serial), and `history` is also read under `lock`, which every write holds.

    /// The model.
    public let model: LanguageModel
    /// The position map the cache was made for (plain RoPE or a context extension).
    public let positions: PositionMap
    /// The context size, checked against the model and the map.
    public let plan: ContextPlan

    private let queue: DispatchQueue
    private let cache: KVCache
    private let lock = NSLock()
    private var history: [Int] = []
    /// Logits after the cache's last token, while they are valid (so an identical prompt needs no prefill).
    private var lastLogits: [Float]?

    /// Opens a session with a position map; `contextSize` nil (or 0) takes the map's limit (`L`, or
    /// `N_max` with Self-Extend).
    public init(model: LanguageModel, positions: PositionMap = PlainPositions(), contextSize: Int? = nil) throws {
        self.model = model
        self.positions = positions
        plan = try ContextPlan(trainedContext: model.trainedContext, requested: contextSize, positions: positions)
        cache = try model.network.makeCache(maxTokens: plan.contextSize, positions: positions)
        queue = DispatchQueue(label: "stretch.session", qos: .userInitiated)
    }

    /// Opens a session with a context extension given as a spec (`"self-extend:G=4:W=1024"`, `"none"`,
    /// `"yarn:S=4"`; see ``PositionSpec``).
    public convenience init(model: LanguageModel, contextExtension spec: String, contextSize: Int? = nil) throws {
        try self.init(
            model: model, positions: PositionSpec.parse(spec, trainedContext: model.trainedContext),
            contextSize: contextSize)
    }

    /// Tokens the session holds: the cached ones, then at most one sampled token not yet run.
    public var tokens: [Int] {
        lock.lock()
        defer { lock.unlock() }
        return history
    }

    /// Tokens the context holds at most.
    public var contextSize: Int { plan.contextSize }

    /// Forgets the sequence (after the generations already queued).
    public func reset() {
        queue.async { [self] in
            cache.clear()
            lastLogits = nil
            setHistory([])
        }
    }

    /// Generates after `prompt`, streaming tokens and text, then a ``GenerationEvent/finished(_:)`` event.
    ///
    /// The prompt is the whole sequence (history included), not a continuation: its longest common prefix
    /// with ``tokens`` is reused. Errors (an empty prompt, a prompt that does not fit the context, invalid
    /// parameters) end the stream before any token.
    public func generate(
        prompt: [Int], parameters: GenerationParameters = GenerationParameters()
    ) -> AsyncThrowingStream<GenerationEvent, Error> {
        let (stream, continuation) = AsyncThrowingStream<GenerationEvent, Error>.makeStream()
        let flag = CancellationFlag()
        continuation.onTermination = { termination in
            if case .cancelled = termination { flag.cancel() }
        }
        queue.async { [self] in
            do {
                let stats = try run(prompt: prompt, parameters: parameters, cancelled: flag) { event in
                    continuation.yield(event)
                }
                continuation.yield(.finished(stats))
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        return stream
    }

    /// Tokenizes `text` (with the model's BOS when it adds one; special-token text such as
    /// `<|im_start|>` parsed) and generates after it.
    public func generate(
        text: String, parameters: GenerationParameters = GenerationParameters()
    ) -> AsyncThrowingStream<GenerationEvent, Error> {
        generate(prompt: model.tokenizer.encode(text, addSpecial: true, parseSpecial: true), parameters: parameters)
    }

    /// Runs `prompt` through the model (reusing the cached prefix) without generating, and returns the
    /// logits after its last token and how many of its tokens were reused.
    public func prefill(_ prompt: [Int]) async throws -> (logits: [Float], reusedTokens: Int) {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { [self] in
                continuation.resume(with: Result {
                    let (logits, reused) = try advanceCache(to: prompt, cancelled: nil)
                    return (logits ?? [], reused)
                })
            }
        }
    }

    /// Returns when every generation and reset queued so far has ended.
    public func waitUntilIdle() async {
        await withCheckedContinuation { continuation in queue.async { continuation.resume() } }
    }

    // MARK: - On the session's queue

    private func setHistory(_ tokens: [Int]) {
        lock.lock()
        history = tokens
        lock.unlock()
    }

    private func appendHistory(_ token: Int) {
        lock.lock()
        history.append(token)
        lock.unlock()
    }

    /// Brings the cache to `prompt` and returns the logits after it (nil if cancelled) and the reused count.
    private func advanceCache(to prompt: [Int], cancelled: CancellationFlag?) throws -> ([Float]?, Int) {
        guard !prompt.isEmpty else { throw GenerationError.emptyPrompt }
        guard prompt.count <= plan.contextSize else {
            throw ModelError.contextExceeded(
                tokens: prompt.count, limit: plan.contextSize,
                detail: "the prompt alone has \(prompt.count) tokens; "
                    + positions.limitExplanation(trainedContext: model.trainedContext))
        }
        let vocab = model.network.config.vocabularySize
        for t in prompt where t < 0 || t >= vocab { throw ModelError.invalidToken(id: t, vocabularySize: vocab) }
        let current = tokens
        var common = 0
        let limit = min(cache.count, prompt.count, current.count)
        while common < limit && current[common] == prompt[common] { common += 1 }
        if common == prompt.count && common == cache.count, let logits = lastLogits {
            setHistory(prompt)
            return (logits, common)
        }
        // At least the last prompt token must run, for its logits; a prefix whose ring slots were overwritten
        // is recomputed from the start (reusablePrefix), so reuse never changes outputs.
        let reused = cache.reusablePrefix(upTo: min(common, prompt.count - 1))
        cache.truncate(to: reused)
        lastLogits = nil
        setHistory(Array(prompt[..<reused]))
        let batch = model.network.batchSize
        var done = reused
        var logits: [Float] = []
        while done < prompt.count {
            if cancelled?.isCancelled == true { return (nil, reused) }
            let n = min(batch, prompt.count - done)
            let isLast = done + n == prompt.count
            logits = try model.network.forward(Array(prompt[done..<(done + n)]), cache: cache, logits: isLast ? .last : .none)
            done += n
            setHistory(Array(prompt[..<done]))
        }
        lastLogits = logits
        return (logits, reused)
    }

    private func run(
        prompt: [Int], parameters: GenerationParameters, cancelled: CancellationFlag,
        emit: (GenerationEvent) -> Void
    ) throws -> GenerationStatistics {
        var generation = try TokenGeneration(
            prompt: prompt, parameters: parameters, tokenizer: model.tokenizer, contextSize: plan.contextSize)
        var stats = GenerationStatistics()
        stats.promptTokens = prompt.count
        let t0 = DispatchTime.now()
        let (prefilled, reused) = try advanceCache(to: prompt, cancelled: cancelled)
        stats.cachedPromptTokens = reused
        stats.promptSeconds = Self.seconds(since: t0)
        guard var logits = prefilled else {
            stats.stopReason = .cancelled
            return stats
        }
        let t1 = DispatchTime.now()
        var reason = GenerationStatistics.StopReason.cancelled
        while !cancelled.isCancelled {
            let step = generation.step(
                logits: logits, history: history, cachedTokens: cache.count, record: appendHistory, emit: emit)
            if let stop = step.stop {
                reason = stop
                break
            }
            if cancelled.isCancelled { break }
            lastLogits = nil
            logits = try model.network.forward([step.token!], cache: cache, logits: .last)
            lastLogits = logits
        }
        generation.finish(reason, emit: emit)
        stats.stopReason = reason
        stats.generatedTokens = generation.produced
        stats.generationSeconds = Self.seconds(since: t1)
        return stats
    }

    private static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}
