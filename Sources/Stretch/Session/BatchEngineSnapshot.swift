/// What a ``BatchEngine`` is doing at one moment: each slot's state and the waiting requests (for a
/// server's `/slots` and `/metrics`).
public struct BatchEngineSnapshot: Sendable, Equatable {
    /// One slot of the engine.
    public struct Slot: Sendable, Equatable {
        /// What a slot is doing.
        public enum Phase: String, Sendable {
            /// No request; the cache keeps the last sequence for prefix reuse.
            case idle
            /// Running its request's prompt.
            case prefilling
            /// Producing tokens.
            case generating
        }

        /// Position of the slot, `0..<slots`.
        public var index: Int
        /// What it is doing.
        public var phase: Phase
        /// Tokens in its KV cache.
        public var cachedTokens: Int
        /// Tokens of the request it serves (0 when idle).
        public var promptTokens: Int
        /// Tokens generated so far for that request.
        public var generatedTokens: Int
        /// Tokens the slot's cache may hold.
        public var contextSize: Int
        /// The position map of the slot's cache (`none`, `self-extend:G=8:W=256`).
        public var contextExtension: String
    }

    /// Every slot, by index.
    public var slots: [Slot]
    /// Requests submitted and not yet given a slot.
    public var waitingRequests: Int
}
