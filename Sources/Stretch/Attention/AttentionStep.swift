/// Positions and rotations for one forward chunk of `tokens` new tokens, shared by every layer.
///
/// Built once per chunk: it fixes the RoPE angles (re-rotating cached keys when a dynamic scheme moved
/// them), precomputes the cos/sin tables for near, far and (DCA) middle positions, and then, per layer,
/// rotates the new keys into the cache (near and, where the map needs one, far copies), rotates and
/// scales the queries, and runs
/// ``ExactAttention``. The caller reserves room in the cache before and commits the tokens after all layers.
package final class AttentionStep {
    /// First new position (tokens already in the cache).
    package let start: Int
    /// Number of new tokens.
    package let tokens: Int
    /// The scheme.
    package let positions: PositionMap
    /// The angles used for this chunk.
    package let rope: RotaryEmbedding
    private let half: Int
    /// Whether some pairs use far query rotations, whether far keys are a second copy, and whether a
    /// middle query rotation exists (DCA).
    private let far, farKeys, middle: Bool
    private let cosNear, sinNear, cosNearK, sinNearK, cosFarQ, sinFarQ, cosFarK, sinFarK, cosMidQ, sinMidQ: UnsafeMutablePointer<Float>
    private let queryScales: [Float]
    /// The query scale without the scheme's per-position factor, for its ``PositionMap/unscaledLeadingLayers``.
    private let baseQueryScale: Float

    /// Keys farther than this are masked (sliding-window layers); `Int.max` for full attention.
    package let slidingWindow: Int
    /// Attention logit soft-capping (Gemma 2), 0 for none.
    package let softCap: Float

    /// Prepares a chunk of `tokens` tokens after those already in `cache`.
    ///
    /// - Parameter updatesCacheRope: whether this step's angles are the cache's (re-rotating cached keys
    ///   if a dynamic scheme moved them). Sliding-window layers with their own fixed RoPE pass false.
    /// - Parameter queryScale: the architecture's own factor on queries (on top of `1/√headDim`).
    /// - Parameter softCap: attention logit soft-capping (``ExactAttention``), 0 for none.
    package init(
        cache: KVCache, tokens: Int, rope base: RotaryEmbedding, positions: PositionMap, trainedContext: Int,
        slidingWindow: Int = Int.max, updatesCacheRope: Bool = true, queryScale: Float = 1, softCap: Float = 0
    ) {
        start = cache.count
        self.tokens = tokens
        self.positions = positions
        self.slidingWindow = slidingWindow
        self.softCap = softCap
        // The scheme may change RoPE's angles (PI, NTK, YaRN); dynamic ones depend on the length reached.
        let rope = positions.rotaryEmbedding(base, trainedContext: trainedContext, sequenceLength: start + tokens)
        if updatesCacheRope {
            if let previous = cache.rope, previous != rope, cache.count > 0 {
                cache.rerotate(from: previous, to: rope, positions: positions)
            }
            cache.rope = rope
        }
        self.rope = rope
        half = rope.dimensions / 2
        far = positions.usesFarPositions
        farKeys = positions.storesFarKeyCopy
        middle = { if case .chunks = positions.keySplit { return true } else { return false } }()
        let n = max(1, tokens) * half
        cosNear = .allocate(capacity: n)
        sinNear = .allocate(capacity: n)
        cosNearK = .allocate(capacity: n)
        sinNearK = .allocate(capacity: n)
        cosFarQ = .allocate(capacity: far ? n : 1)
        sinFarQ = .allocate(capacity: far ? n : 1)
        cosFarK = .allocate(capacity: farKeys ? n : 1)
        sinFarK = .allocate(capacity: farKeys ? n : 1)
        cosMidQ = .allocate(capacity: middle ? n : 1)
        sinMidQ = .allocate(capacity: middle ? n : 1)
        for t in 0..<tokens {
            let i = start + t
            rope.table(position: positions.nearQueryPosition(i), cos: cosNear + t * half, sin: sinNear + t * half)
            rope.table(position: positions.nearKeyPosition(i), cos: cosNearK + t * half, sin: sinNearK + t * half)
            if far {
                rope.table(position: positions.farQueryPosition(i), cos: cosFarQ + t * half, sin: sinFarQ + t * half)
            }
            if farKeys {
                rope.table(position: positions.farKeyPosition(i), cos: cosFarK + t * half, sin: sinFarK + t * half)
            }
            if middle {
                rope.table(position: positions.middleQueryPosition(i), cos: cosMidQ + t * half, sin: sinMidQ + t * half)
            }
        }
        // Log-n, YaRN and temperatures (DCA's mscale²) scale attention logits; scaling the query does it
        // once per row. A temperature is fixed by the cache's context size, so it never changes mid-sequence.
        let temperature = Float(positions.logitTemperature(trainedContext: trainedContext, contextSize: cache.maxTokens))
        let logitScale = Float(rope.logitScale) * queryScale * temperature
        let first = start
        baseQueryScale = logitScale
        queryScales = (0..<tokens).map {
            positions.queryScale(position: first + $0, trainedContext: trainedContext) * logitScale
        }
    }

    deinit {
        for p in [cosNear, sinNear, cosNearK, sinNearK, cosFarQ, sinFarQ, cosFarK, sinFarK, cosMidQ, sinMidQ] { p.deallocate() }
    }

    /// Attention of one layer: stores the new keys (rotated) and values in `cache`, rotates the queries,
    /// and writes `[tokens][heads][headDim]` to `out`.
    ///
    /// - Parameters:
    ///   - queries: `[tokens][heads][headDim]`, unrotated; rotated in place.
    ///   - keys: `[tokens][kvHeads][headDim]`, unrotated; rotated in place.
    ///   - values: `[tokens][kvHeads][headDim]`.
    package func attend(
        cache: KVCache, layer: Int, queries q: UnsafeMutablePointer<Float>, keys k: UnsafeMutablePointer<Float>,
        values v: UnsafePointer<Float>, heads: Int, out: UnsafeMutablePointer<Float>, workers: WorkerPool
    ) {
        // One specialization per (key, value) pair of formats: no per-element branching in the kernels.
        func with<K: KVElement>(_: K.Type) {
            switch cache.valueType {
            case .f32: attend(K.self, F32Element.self, cache, layer, q, k, v, heads, out, workers)
            case .f16: attend(K.self, F16Element.self, cache, layer, q, k, v, heads, out, workers)
            case .q8_0: attend(K.self, Q8_0Element.self, cache, layer, q, k, v, heads, out, workers)
            case .q4_0: attend(K.self, Q4_0Element.self, cache, layer, q, k, v, heads, out, workers)
            }
        }
        switch cache.keyType {
        case .f32: with(F32Element.self)
        case .f16: with(F16Element.self)
        case .q8_0: with(Q8_0Element.self)
        case .q4_0: with(Q4_0Element.self)
        }
    }

    private func attend<K: KVElement, V: KVElement>(
        _: K.Type, _: V.Type, _ cache: KVCache, _ layer: Int, _ q: UnsafeMutablePointer<Float>, _ k: UnsafeMutablePointer<Float>,
        _ v: UnsafePointer<Float>, _ heads: Int, _ out: UnsafeMutablePointer<Float>, _ workers: WorkerPool
    ) {
        let hd = cache.headDim
        let nkv = cache.kvHeads
        let qDim = heads * hd
        let kvDim = nkv * hd
        let rotates = cache.rotatesKeys
        // The layer's stores must reach as far back as this step reads (a ring too short would be read stale).
        let nearReach = min(slidingWindow, farKeys ? positions.keySplit.nearReach ?? Int.max : Int.max)
        precondition(cache.serves(layer: layer, farKeys: farKeys, nearReach: nearReach, valueReach: slidingWindow),
                     "KV cache layer \(layer) is kept as \(cache.layerKinds[layer]), not for this attention")
        let qFar = UnsafeMutablePointer<Float>.allocate(capacity: far ? tokens * qDim : 1)
        let qMid = UnsafeMutablePointer<Float>.allocate(capacity: middle ? tokens * qDim : 1)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: hd)
        defer {
            qFar.deallocate()
            qMid.deallocate()
            scratch.deallocate()
        }
        for t in 0..<tokens {
            let pos = start + t
            if far {
                (qFar + t * qDim).update(from: q + t * qDim, count: qDim)
                rope.apply(qFar + t * qDim, heads: heads, headDim: hd, cos: cosFarQ + t * half, sin: sinFarQ + t * half)
            }
            if middle {
                (qMid + t * qDim).update(from: q + t * qDim, count: qDim)
                rope.apply(qMid + t * qDim, heads: heads, headDim: hd, cos: cosMidQ + t * half, sin: sinMidQ + t * half)
            }
            if farKeys {
                for h in 0..<nkv {
                    scratch.update(from: k + t * kvDim + h * hd, count: hd)
                    rope.apply(scratch, heads: 1, headDim: hd, cos: cosFarK + t * half, sin: sinFarK + t * half)
                    if rotates { KeyRotation.apply(scratch, hd) }
                    K.store(scratch, cache.farKeySlots(layer, h).row(pos), hd)
                }
            }
            rope.apply(q + t * qDim, heads: heads, headDim: hd, cos: cosNear + t * half, sin: sinNear + t * half)
            rope.apply(k + t * kvDim, heads: nkv, headDim: hd, cos: cosNearK + t * half, sin: sinNearK + t * half)
            let qs = layer < positions.unscaledLeadingLayers ? baseQueryScale : queryScales[t]
            if qs != 1 {
                VectorOps.scale(q + t * qDim, qs, qDim)
                if far { VectorOps.scale(qFar + t * qDim, qs, qDim) }
                if middle { VectorOps.scale(qMid + t * qDim, qs, qDim) }
            }
            if rotates {
                // Queries turn with their keys, so every score ⟨q, k⟩ is unchanged (``KeyRotation``).
                KeyRotation.apply(q + t * qDim, qDim)
                if far { KeyRotation.apply(qFar + t * qDim, qDim) }
                if middle { KeyRotation.apply(qMid + t * qDim, qDim) }
                KeyRotation.apply(k + t * kvDim, kvDim)
            }
            for h in 0..<nkv {
                K.store(k + t * kvDim + h * hd, cache.nearKeySlots(layer, h).row(pos), hd)
                V.store(v + t * kvDim + h * hd, cache.valueSlots(layer, h).row(pos), hd)
            }
        }
        ExactAttention.run(
            K.self, V.self, cache: cache, layer: layer, start: start, tokens: tokens, heads: heads, split: positions.keySplit,
            sharedKeys: !farKeys, slidingWindow: slidingWindow, softCap: softCap,
            qNear: q, qFar: far ? UnsafePointer(qFar) : nil, qMiddle: middle ? UnsafePointer(qMid) : nil,
            out: out, workers: workers)
    }
}
