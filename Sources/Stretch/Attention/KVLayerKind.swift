/// What one layer keeps in a ``KVCache``, by the attention it runs.
public enum KVLayerKind: Sendable, Equatable {
    /// Attention at the cache's position map over the whole history: values and far keys (when the map keeps
    /// a far copy) of every token; near keys of every token, or, when a far copy exists, only of the last
    /// tokens within the map's near reach (a ring, ``KeySplit/nearReach``).
    case global
    /// Plain positions over the last `window` tokens (Gemma 2/3 local layers): keys and values in a ring.
    case slidingWindow(Int)
    /// Plain positions over the whole history, one key copy (NoPE layers: no rotation to extend).
    case plain

    /// The kinds of a model's layers: NoPE layers plain, then sliding-window ones local, the rest global
    /// (the order `LlamaModel` picks each layer's attention step in).
    public static func layers(of architecture: Architecture, count: Int, slidingWindow: Int?) -> [KVLayerKind] {
        (0..<count).map { l in
            if !architecture.usesRope(layer: l) { return .plain }
            if let w = slidingWindow, architecture.isLocal(layer: l) { return .slidingWindow(w) }
            return .global
        }
    }
}
