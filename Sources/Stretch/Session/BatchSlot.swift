/// One sequence of a ``BatchEngine``: a KV cache bound to one position map, the tokens it holds, and the
/// request it serves. Touched only on the engine thread, except the snapshot fields (under the engine's
/// lock).
final class BatchSlot {
    let index: Int
    /// Replaced when a request needs another position map (a cache is bound to its map for life).
    var cache: KVCache
    /// The name of the cache's position map (``PositionMap/description``).
    var spec: String
    /// Cached tokens, then at most one sampled token not yet run (as `Session.tokens`).
    var history: [Int] = []
    /// Logits after the cache's last token while they are valid (an identical prompt then needs no forward).
    var lastLogits: [Float]?
    /// Logits waiting to be sampled for the request (after its prompt or its last token ran).
    var pendingLogits: [Float]?
    var request: BatchRequest?
    /// Engine step at which the slot was last given a request (least recently used is chosen first).
    var lastUsed = 0

    init(index: Int, cache: KVCache, spec: String) {
        self.index = index
        self.cache = cache
        self.spec = spec
    }

    /// Whether the request's prompt has been run completely.
    var isGenerating: Bool { request.map { $0.prefilled == $0.prompt.count } ?? false }
}
