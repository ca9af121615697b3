/// Keys and values of every processed token, per layer, already rotated.
///
/// A cache is made for one position map and keeps it for life: its keys are rotated at that map's
/// positions, so attending to them with another map would be silently wrong.
///
/// Layout per layer and KV head: `[position][headDim]`, contiguous, so one head's keys stream through
/// the cache. Keys are stored twice when the position map has a far map at other key positions (near and
/// far rotations, SELF_EXTEND.md §2); Dual Chunk Attention and STRING keep one copy. Keys and values each have
/// their own storage format (``KVElementType``: float32, binary16, or llama.cpp's Q8_0/Q4_0 blocks along the
/// head). Capacity grows by doubling up to ``maxTokens``, so memory follows use and never exceeds the
/// requested context.
// @unchecked Sendable: a cache belongs to one sequence and is mutated only by the forward pass running on it;
// a `Session` confines its cache to the session's serial queue. Code that calls `LlamaModel.forward` itself
// must likewise never run two forwards on one cache at the same time.
public final class KVCache: @unchecked Sendable {
    /// Number of layers.
    public let layers: Int
    /// KV heads per layer.
    public let kvHeads: Int
    /// Head width.
    public let headDim: Int
    /// The position map the cached keys were rotated for.
    public let positions: PositionMap
    /// Whether far-rotated key copies are kept.
    public var storesFarKeys: Bool { positions.storesFarKeyCopy }
    /// Hard limit on the number of tokens.
    public let maxTokens: Int
    /// Storage format of keys (near and far copies).
    public let keyType: KVElementType
    /// Storage format of values.
    public let valueType: KVElementType
    /// Whether keys (and, in attention, the queries with them) are turned by ``KeyRotation`` before storage:
    /// for the block formats, where one outlying dimension would otherwise set a coarse scale for its block.
    public var rotatesKeys: Bool { keyType.blockSize > 1 }
    /// Bytes of one stored key head vector.
    let keyRowBytes: Int
    /// Bytes of one stored value head vector.
    let valueRowBytes: Int
    /// Tokens stored so far.
    public private(set) var count = 0
    /// Allocated tokens per head.
    public private(set) var capacity = 0
    /// The rotary embedding the cached keys were rotated with (nil while empty).
    public internal(set) var rope: RotaryEmbedding?

    var keysNear: [UnsafeMutableRawPointer] = []
    var keysFar: [UnsafeMutableRawPointer] = []
    var values: [UnsafeMutableRawPointer] = []

    /// Creates an empty cache storing keys as `keyType` and values as `valueType`.
    ///
    /// - Precondition: both types support `headDim` (``KVElementType/supports(headDim:)``; the block formats
    ///   need a multiple of 32). ``LlamaModel/makeCache(maxTokens:positions:)`` checks it and throws.
    public init(
        layers: Int, kvHeads: Int, headDim: Int, positions: PositionMap, maxTokens: Int,
        keyType: KVElementType = .f32, valueType: KVElementType = .f32
    ) {
        precondition(keyType.supports(headDim: headDim) && valueType.supports(headDim: headDim),
                     "KV type \(keyType)/\(valueType) cannot store heads of \(headDim)")
        self.layers = layers
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.positions = positions
        self.maxTokens = maxTokens
        self.keyType = keyType
        self.valueType = valueType
        keyRowBytes = keyType.rowBytes(headDim: headDim)
        valueRowBytes = valueType.rowBytes(headDim: headDim)
    }

    deinit { release() }

    private func release() {
        for p in keysNear + keysFar + values { p.deallocate() }
        keysNear = []
        keysFar = []
        values = []
    }

    /// Creates an empty cache storing keys and values as `elementType`.
    public convenience init(
        layers: Int, kvHeads: Int, headDim: Int, positions: PositionMap, maxTokens: Int, elementType: KVElementType
    ) {
        self.init(layers: layers, kvHeads: kvHeads, headDim: headDim, positions: positions, maxTokens: maxTokens,
                  keyType: elementType, valueType: elementType)
    }

    /// Bytes one token takes in every layer (keys, far keys when kept, values).
    public var bytesPerToken: Int {
        Self.bytesPerToken(layers: layers, kvHeads: kvHeads, headDim: headDim, keyType: keyType, valueType: valueType,
                           farKeys: storesFarKeys)
    }

    /// Bytes one token takes in a cache of this shape: what ``LlamaModel/makeCache(maxTokens:positions:)``
    /// checks against available memory and `stretch inspect` reports.
    public static func bytesPerToken(
        layers: Int, kvHeads: Int, headDim: Int, keyType: KVElementType, valueType: KVElementType, farKeys: Bool
    ) -> Int {
        layers * kvHeads * (keyType.rowBytes(headDim: headDim) * (farKeys ? 2 : 1) + valueType.rowBytes(headDim: headDim))
    }

    /// Bytes currently allocated.
    public var allocatedBytes: Int { capacity * bytesPerToken }

    /// Makes room for `newTokens` more tokens (amortized doubling). Call before ``AttentionStep/attend``.
    public func reserve(_ newTokens: Int) {
        let needed = count + newTokens
        precondition(needed <= maxTokens, "KV cache overflow: caller must check the context limit first")
        if needed <= capacity { return }
        var newCap = max(256, capacity)
        while newCap < needed { newCap *= 2 }
        newCap = min(newCap, maxTokens)
        func grow(_ old: [UnsafeMutableRawPointer], _ rowBytes: Int) -> [UnsafeMutableRawPointer] {
            (0..<layers).map { l in
                let p = UnsafeMutableRawPointer.allocate(byteCount: kvHeads * newCap * rowBytes, alignment: 64)
                if !old.isEmpty {
                    for h in 0..<kvHeads {
                        (p + h * newCap * rowBytes).copyMemory(from: old[l] + h * capacity * rowBytes, byteCount: count * rowBytes)
                    }
                }
                return p
            }
        }
        let nk = grow(keysNear, keyRowBytes), nv = grow(values, valueRowBytes)
        let nf = storesFarKeys ? grow(keysFar, keyRowBytes) : []
        release()
        keysNear = nk
        values = nv
        keysFar = nf
        capacity = newCap
    }

    /// Start of the near keys of `head` in `layer`; key `j` is at `+ j · headDim` elements.
    @inline(__always)
    func nearKey(_ layer: Int, _ head: Int) -> UnsafeMutableRawPointer {
        keysNear[layer] + head * capacity * keyRowBytes
    }

    @inline(__always)
    func farKey(_ layer: Int, _ head: Int) -> UnsafeMutableRawPointer {
        keysFar[layer] + head * capacity * keyRowBytes
    }

    @inline(__always)
    func value(_ layer: Int, _ head: Int) -> UnsafeMutableRawPointer {
        values[layer] + head * capacity * valueRowBytes
    }

    /// Marks `n` reserved tokens as stored (after every layer wrote them).
    public func commit(_ n: Int) { count += n }

    /// Forgets tokens from `position` on (e.g. to reuse a shared prompt prefix).
    public func truncate(to position: Int) {
        precondition(position >= 0 && position <= count)
        count = position
    }

    /// Forgets every token.
    public func clear() {
        count = 0
        rope = nil
    }

    /// Re-rotates every cached key from the angles of `old` to those of `new` (dynamic NTK changes the
    /// angles as the sequence grows). Rotations compose, so each key turns by `pos · (θ_new − θ_old)`.
    func rerotate(from old: RotaryEmbedding, to new: RotaryEmbedding, positions: PositionMap) {
        switch keyType {
        case .f32: rerotate(F32Element.self, from: old, to: new, positions: positions)
        case .f16: rerotate(F16Element.self, from: old, to: new, positions: positions)
        case .q8_0: rerotate(Q8_0Element.self, from: old, to: new, positions: positions)
        case .q4_0: rerotate(Q4_0Element.self, from: old, to: new, positions: positions)
        }
    }

    private func rerotate<E: KVElement>(_: E.Type, from old: RotaryEmbedding, to new: RotaryEmbedding, positions: PositionMap) {
        let half = new.dimensions / 2
        let c = UnsafeMutablePointer<Float>.allocate(capacity: half)
        let s = UnsafeMutablePointer<Float>.allocate(capacity: half)
        let x = UnsafeMutablePointer<Float>.allocate(capacity: headDim)
        defer {
            c.deallocate()
            s.deallocate()
            x.deallocate()
        }
        var delta = old
        delta.inverseFrequencies = zip(new.inverseFrequencies, old.inverseFrequencies).map { $0 - $1 }
        delta.rotationScale = new.rotationScale / old.rotationScale
        let rowBytes = keyRowBytes
        let rotated = rotatesKeys
        func turn(_ p: UnsafeMutableRawPointer) {
            E.load(p, x, headDim)
            // RoPE acts on the unrotated key: undo the (self-inverse) Hadamard turn around it.
            if rotated { KeyRotation.apply(x, headDim) }
            delta.apply(x, heads: 1, headDim: headDim, cos: c, sin: s)
            if rotated { KeyRotation.apply(x, headDim) }
            E.store(x, p, headDim)
        }
        for j in 0..<count {
            delta.table(position: positions.nearKeyPosition(j), cos: c, sin: s)
            for l in 0..<layers {
                for h in 0..<kvHeads { turn(nearKey(l, h) + j * rowBytes) }
            }
            if storesFarKeys {
                delta.table(position: positions.farKeyPosition(j), cos: c, sin: s)
                for l in 0..<layers {
                    for h in 0..<kvHeads { turn(farKey(l, h) + j * rowBytes) }
                }
            }
        }
    }
}
