import Dispatch

/// One submitted generation while it waits for a slot or runs in one.
// @unchecked Sendable: created by `BatchEngine.submit`, handed to the engine thread through the engine's
// locked queue, and from then on read and written only on that thread (the flag is atomic).
final class BatchRequest: @unchecked Sendable {
    let prompt: [Int]
    /// The position map its slot's cache must have, and its name (slots with the same name share caches).
    let positions: PositionMap
    let spec: String
    /// Tokens its slot may hold.
    let contextSize: Int
    /// Whether a cached prefix may be reused (else the slot's cache starts empty).
    let reusePrefix: Bool
    let continuation: AsyncThrowingStream<GenerationEvent, Error>.Continuation
    let cancelled = CancellationFlag()
    var generation: TokenGeneration
    var statistics = GenerationStatistics()
    /// Prompt tokens in the slot's cache so far.
    var prefilled = 0
    /// When the request was submitted, got a slot, and finished its prompt.
    let submitted = DispatchTime.now()
    var started = DispatchTime.now()
    var generationStarted = DispatchTime.now()

    init(
        prompt: [Int], positions: PositionMap, contextSize: Int, reusePrefix: Bool, generation: TokenGeneration,
        continuation: AsyncThrowingStream<GenerationEvent, Error>.Continuation
    ) {
        self.prompt = prompt
        self.positions = positions
        spec = positions.description
        self.contextSize = contextSize
        self.reusePrefix = reusePrefix
        self.generation = generation
        self.continuation = continuation
        statistics.promptTokens = prompt.count
    }
}
