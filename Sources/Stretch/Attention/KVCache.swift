#if canImport(Glibc)
import Glibc
#endif

/// Keys and values of the processed tokens, per layer, already rotated.
///
/// A cache is made for one position map and keeps it for life: its keys are rotated at that map's
/// positions, so attending to them with another map would be silently wrong.
///
/// Layout per layer, kind (near keys, far keys, values) and KV head: rows of `headDim`, contiguous, so one
/// head's keys stream through the cache; token `j` lives in slot `j mod rows`. A store that attention reads
/// over the whole history grows with the sequence (capacity doubling up to ``maxTokens``), so `rows` exceeds
/// every stored token and the slot is `j` itself. A store read only over the last tokens is a ring
/// (docs/DESIGN.md, "KV rings"):
/// - near keys of a map that keeps a far copy (Self-Extend): queries read them only `W` tokens back, far keys
///   and values stay whole, so keys cost one copy plus a ring instead of two copies;
/// - keys and values of sliding-window layers (``KVLayerKind/slidingWindow(_:)``).
///
/// A ring has at least `reach − 1 + n` slots for a pass of `n` new tokens (the older tokens its queries read
/// and the new ones, all in distinct slots), rounded up to a multiple of the attention kernel's key tile so
/// that a tile's slots never wrap; it grows, moving its tokens to their new slots, when a longer pass comes,
/// and while the history is shorter it is no larger than the whole-history stores. Keys and values each have
/// their own storage format (``KVElementType``: float32, binary16, or llama.cpp's Q8_0/Q4_0 blocks along the
/// head).
///
/// A ring forgets old tokens, so going back to an earlier length (``truncate(to:)``) is only exact while the
/// rings still hold what the later queries read: ``reusablePrefix(upTo:)`` says how much may be kept.
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
    /// What each layer keeps.
    public let layerKinds: [KVLayerKind]
    /// Whether far-rotated key copies are kept (by the ``KVLayerKind/global`` layers).
    public var storesFarKeys: Bool { positions.storesFarKeyCopy }
    /// Hard limit on the number of tokens.
    public let maxTokens: Int
    /// Whether stores read over the last tokens only are rings (false keeps every store whole: the layout before
    /// rings, for comparisons).
    public let keepsRings: Bool
    /// The most tokens one forward pass is expected to add: the size the rings are estimated at
    /// (``footprint``). A longer pass still works; the rings grow for it.
    public let chunkTokens: Int
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
    /// Allocated tokens per head in the whole-history stores.
    public private(set) var capacity = 0
    /// The rotary embedding the cached keys were rotated with (nil while empty).
    public internal(set) var rope: RotaryEmbedding?

    /// Per layer: near keys, far keys (nil where the layer keeps none) and values.
    private var nearKeys: [KVStore]
    private var farKeys: [KVStore?]
    private var values: [KVStore]

    /// Creates an empty cache storing keys as `keyType` and values as `valueType`.
    ///
    /// - Parameters:
    ///   - layerKinds: what each layer keeps (nil: every layer ``KVLayerKind/global``); a layer must be attended
    ///     as its kind says (``LlamaModel/makeCache(maxTokens:positions:)`` passes the model's).
    ///   - chunkTokens: the most tokens one forward pass adds, for ``footprint``.
    ///   - rings: false keeps every token in every store (the layout before rings; same outputs, more memory).
    /// - Precondition: both types support `headDim` (``KVElementType/supports(headDim:)``; the block formats
    ///   need a multiple of 32). ``LlamaModel/makeCache(maxTokens:positions:)`` checks it and throws.
    public init(
        layers: Int, kvHeads: Int, headDim: Int, positions: PositionMap, maxTokens: Int,
        keyType: KVElementType = .f32, valueType: KVElementType = .f32, layerKinds: [KVLayerKind]? = nil,
        chunkTokens: Int = 256, rings: Bool = true
    ) {
        precondition(keyType.supports(headDim: headDim) && valueType.supports(headDim: headDim),
                     "KV type \(keyType)/\(valueType) cannot store heads of \(headDim)")
        let kinds = layerKinds ?? Array(repeating: .global, count: layers)
        precondition(kinds.count == layers, "one kind per layer")
        self.layers = layers
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.positions = positions
        self.layerKinds = kinds
        self.maxTokens = maxTokens
        self.chunkTokens = max(1, chunkTokens)
        keepsRings = rings
        self.keyType = keyType
        self.valueType = valueType
        keyRowBytes = keyType.rowBytes(headDim: headDim)
        valueRowBytes = valueType.rowBytes(headDim: headDim)
        let keyBytes = keyRowBytes, valueBytes = valueRowBytes
        let layout = kinds.map { Self.reaches($0, positions: positions, rings: rings) }
        nearKeys = layout.map { KVStore(rowBytes: keyBytes, reach: $0.near) }
        farKeys = layout.map { $0.far ? KVStore(rowBytes: keyBytes, reach: Int.max) : nil }
        values = layout.map { KVStore(rowBytes: valueBytes, reach: $0.values) }
    }

    deinit {
        for s in nearKeys + farKeys.compactMap({ $0 }) + values { s.base?.deallocate() }
    }

    /// Creates an empty cache storing keys and values as `elementType`.
    public convenience init(
        layers: Int, kvHeads: Int, headDim: Int, positions: PositionMap, maxTokens: Int, elementType: KVElementType
    ) {
        self.init(layers: layers, kvHeads: kvHeads, headDim: headDim, positions: positions, maxTokens: maxTokens,
                  keyType: elementType, valueType: elementType)
    }

    /// How far back a layer of `kind` reads its near keys and values (`Int.max`: the whole history), and
    /// whether it keeps far keys.
    private static func reaches(_ kind: KVLayerKind, positions: PositionMap, rings: Bool) -> (near: Int, far: Bool, values: Int) {
        if !rings { return (Int.max, kind == .global && positions.storesFarKeyCopy, Int.max) }
        switch kind {
        case .global:
            let far = positions.storesFarKeyCopy
            return (far ? positions.keySplit.nearReach ?? Int.max : Int.max, far, Int.max)
        case let .slidingWindow(w): return (max(1, w), false, max(1, w))
        case .plain: return (Int.max, false, Int.max)
        }
    }

    /// Slots a ring of `reach` needs for passes of `tokens` new tokens: the `reach − 1` older tokens the
    /// pass reads and its own, rounded up to whole key tiles.
    static func ringSlots(reach: Int, tokens: Int) -> Int {
        let tile = ExactAttention.keyTile
        let (n, overflow) = (reach - 1).addingReportingOverflow(tokens)
        if overflow || n > Int.max - tile { return Int.max }
        return (n + tile - 1) / tile * tile
    }

    /// The memory of a cache of this shape (``KVCacheFootprint``), its rings sized for passes of
    /// `chunkTokens` tokens.
    public static func footprint(
        layerKinds: [KVLayerKind], kvHeads: Int, headDim: Int, keyType: KVElementType, valueType: KVElementType,
        positions: PositionMap, chunkTokens: Int, rings: Bool = true
    ) -> KVCacheFootprint {
        let keyBytes = kvHeads * keyType.rowBytes(headDim: headDim)
        let valueBytes = kvHeads * valueType.rowBytes(headDim: headDim)
        var perToken = 0
        var ringBytes: [Int: Int] = [:]
        func add(_ reach: Int, _ bytes: Int) {
            if reach == Int.max {
                perToken += bytes
            } else {
                ringBytes[ringSlots(reach: reach, tokens: max(1, chunkTokens)), default: 0] += bytes
            }
        }
        for kind in layerKinds {
            let r = reaches(kind, positions: positions, rings: rings)
            add(r.near, keyBytes)
            if r.far { add(Int.max, keyBytes) }
            add(r.values, valueBytes)
        }
        return KVCacheFootprint(
            bytesPerToken: perToken,
            rings: ringBytes.sorted { $0.key < $1.key }.map { KVCacheFootprint.Ring(slots: $0.key, bytesPerSlot: $0.value) })
    }

    /// This cache's memory by shape: bytes per token plus rings sized for passes of ``chunkTokens`` tokens.
    public var footprint: KVCacheFootprint {
        Self.footprint(layerKinds: layerKinds, kvHeads: kvHeads, headDim: headDim, keyType: keyType,
                       valueType: valueType, positions: positions, chunkTokens: chunkTokens, rings: keepsRings)
    }

    /// Bytes each token adds to the whole-history stores (the rings come on top: ``footprint``).
    public var bytesPerToken: Int { footprint.bytesPerToken }

    /// Bytes currently allocated, rings included.
    public var allocatedBytes: Int {
        (nearKeys + farKeys.compactMap { $0 } + values).reduce(0) { $0 + kvHeads * $1.rows * $1.rowBytes }
    }

    /// Slots allocated per head for `layer`'s near keys, far keys (0 when it keeps none) and values.
    public func slots(layer: Int) -> (nearKeys: Int, farKeys: Int, values: Int) {
        (nearKeys[layer].rows, farKeys[layer]?.rows ?? 0, values[layer].rows)
    }

    /// Makes room for a pass of `newTokens` more tokens: the whole-history stores grow by amortized doubling,
    /// the rings to hold the pass with what it reads. Call before ``AttentionStep/attend``.
    public func reserve(_ newTokens: Int) {
        let needed = count + newTokens
        precondition(needed <= maxTokens, "KV cache overflow: caller must check the context limit first")
        var full = capacity
        if needed > capacity {
            full = max(256, capacity)
            while full < needed { full *= 2 }
            full = min(full, maxTokens)
        }
        // A ring is a multiple of the key tile (no tile wraps) or no smaller than the history (nothing wraps).
        func resize(_ s: inout KVStore) {
            let rows = s.reach == Int.max ? full : min(full, max(s.rows, Self.ringSlots(reach: s.reach, tokens: newTokens)))
            if rows != s.rows { move(&s, to: rows) }
            // The pass overwrites the slots of the tokens `rows` before each new one.
            if s.reach != Int.max { s.intactFrom = max(s.intactFrom, needed - s.rows) }
        }
        for l in 0..<layers {
            resize(&nearKeys[l])
            if farKeys[l] != nil { resize(&farKeys[l]!) }
            resize(&values[l])
        }
        capacity = full
    }

    /// A store's memory. On Linux, stores of 2 MiB or more start on a 2 MiB boundary and ask for transparent
    /// huge pages (`MADV_HUGEPAGE`; the default THP mode is `madvise`): attention streams the whole cache per
    /// token, and with 4 KiB pages every 8 KiB key tile crossed pages (docs/DESIGN.md, "KV cache storage":
    /// decode at 8k a median +7% over seven alternating pairs, within this VM's noise). Advice only: where the
    /// kernel refuses, pages stay 4 KiB.
    private static func allocateStore(_ bytes: Int) -> UnsafeMutableRawPointer {
        #if os(Linux)
        let huge = 2 << 20
        if bytes >= huge {
            let p = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: huge)
            _ = madvise(p, bytes / huge * huge, MADV_HUGEPAGE)
            return p
        }
        #endif
        return UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
    }

    /// Moves a store to `rows` slots per head, each kept token to its new slot.
    private func move(_ s: inout KVStore, to rows: Int) {
        let bytes = kvHeads * rows * s.rowBytes
        let p = Self.allocateStore(bytes)
        // Ring slots outside the kept tokens are read (and masked) at a tile's edges: keep them finite.
        if s.reach != Int.max { p.initializeMemory(as: UInt8.self, repeating: 0, count: bytes) }
        if let old = s.base {
            for h in 0..<kvHeads {
                let from = old + h * s.rows * s.rowBytes, to = p + h * rows * s.rowBytes
                // In contiguous runs: a run ends where either the old or the new slots wrap.
                var j = s.intactFrom
                while j < count {
                    let a = j % s.rows, b = j % rows
                    let n = min(count - j, s.rows - a, rows - b)
                    (to + b * s.rowBytes).copyMemory(from: from + a * s.rowBytes, byteCount: n * s.rowBytes)
                    j += n
                }
            }
            old.deallocate()
        }
        s.base = p
        s.rows = rows
    }

    /// The slots of `head`'s near keys in `layer`.
    @inline(__always)
    func nearKeySlots(_ layer: Int, _ head: Int) -> KVSlots { nearKeys[layer].slots(head) }

    /// The slots of `head`'s far keys in `layer` (the layer must keep far keys).
    @inline(__always)
    func farKeySlots(_ layer: Int, _ head: Int) -> KVSlots { farKeys[layer]!.slots(head) }

    /// The slots of `head`'s values in `layer`.
    @inline(__always)
    func valueSlots(_ layer: Int, _ head: Int) -> KVSlots { values[layer].slots(head) }

    /// Whether `layer` keeps far keys, near keys at least `nearReach` back and values at least
    /// `valueReach` back: what an attention step reading that far needs.
    func serves(layer: Int, farKeys far: Bool, nearReach: Int, valueReach: Int) -> Bool {
        (!far || farKeys[layer] != nil) && nearKeys[layer].reach >= nearReach && values[layer].reach >= valueReach
    }

    /// Marks `n` reserved tokens as stored (after every layer wrote them).
    public func commit(_ n: Int) { count += n }

    /// The longest prefix of at most `position` tokens that ``truncate(to:)`` may keep: `position` when every
    /// ring still holds the tokens that queries from `position` on read (a ring's last `reach − 1` tokens
    /// before it), else 0, so that the caller recomputes everything and outputs never change.
    public func reusablePrefix(upTo position: Int) -> Int {
        let m = min(max(0, position), count)
        if m == 0 { return 0 }
        for s in nearKeys + values where s.reach != Int.max {
            // The oldest token the later queries read; its slot must not have been overwritten since.
            let oldest = m - min(m, s.reach - 1)
            if oldest < s.intactFrom { return 0 }
        }
        return m
    }

    /// Forgets tokens from `position` on (e.g. to reuse a shared prompt prefix).
    ///
    /// - Precondition: the rings still hold what the kept tokens' successors read:
    ///   `reusablePrefix(upTo: position) == position`.
    public func truncate(to position: Int) {
        precondition(position >= 0 && position <= count)
        precondition(reusablePrefix(upTo: position) == position,
                     "KV cache rings no longer hold the tokens before \(position); use reusablePrefix(upTo:)")
        count = position
        if position == 0 { resetRings() }
    }

    /// Forgets every token.
    public func clear() {
        count = 0
        rope = nil
        resetRings()
    }

    /// An empty history: every slot a later pass reads it writes first.
    private func resetRings() {
        for l in 0..<layers {
            nearKeys[l].intactFrom = 0
            values[l].intactFrom = 0
        }
    }

    /// Re-rotates every cached key of the layers at the cache's map from the angles of `old` to those of `new`
    /// (dynamic NTK changes the angles as the sequence grows). Rotations compose, so each key turns by
    /// `pos · (θ_new − θ_old)`. Only the stored slots turn: ring slots of forgotten tokens stay as they are.
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
        let rotated = rotatesKeys
        func turn(_ p: UnsafeMutableRawPointer) {
            E.load(p, x, headDim)
            // RoPE acts on the unrotated key: undo the (self-inverse) Hadamard turn around it.
            if rotated { KeyRotation.apply(x, headDim) }
            delta.apply(x, heads: 1, headDim: headDim, cos: c, sin: s)
            if rotated { KeyRotation.apply(x, headDim) }
            E.store(x, p, headDim)
        }
        // Sliding-window and NoPE layers keep their own fixed angles.
        let global = (0..<layers).filter { layerKinds[$0] == .global }
        // The global layers' near stores are alike: one ring size, one oldest kept token.
        let nearFrom = global.map { nearKeys[$0].intactFrom }.max() ?? 0
        for j in 0..<count {
            if j >= nearFrom {
                delta.table(position: positions.nearKeyPosition(j), cos: c, sin: s)
                for l in global {
                    for h in 0..<kvHeads { turn(nearKeySlots(l, h).row(j)) }
                }
            }
            if storesFarKeys {
                delta.table(position: positions.farKeyPosition(j), cos: c, sin: s)
                for l in global {
                    for h in 0..<kvHeads { turn(farKeySlots(l, h).row(j)) }
                }
            }
        }
    }
}

/// One layer's store of one kind (near keys, far keys or values) for every KV head: head `h`'s `rows` slots
/// start at `base + h · rows · rowBytes`, and token `j` is in slot `j mod rows`.
struct KVStore {
    /// Bytes of one slot.
    let rowBytes: Int
    /// How far back attention reads this store (a query at `i` reads tokens `j > i − reach`); `Int.max` for
    /// the whole history.
    let reach: Int
    var base: UnsafeMutableRawPointer?
    /// Slots per head.
    var rows = 0
    /// The oldest token whose slot still holds it (0 for whole-history stores).
    var intactFrom = 0

    init(rowBytes: Int, reach: Int) {
        self.rowBytes = rowBytes
        self.reach = reach
    }

    @inline(__always)
    func slots(_ head: Int) -> KVSlots { KVSlots(base: base! + head * rows * rowBytes, rows: rows, rowBytes: rowBytes) }
}

/// One head's slots in a store, as the attention kernels address them.
struct KVSlots {
    let base: UnsafeMutableRawPointer
    /// Slots in the store (a multiple of ``ExactAttention/keyTile``, or more than every token it holds).
    let rows: Int
    let rowBytes: Int

    /// The slot of token `j`.
    @inline(__always)
    func row(_ j: Int) -> UnsafeMutableRawPointer { base + (j % rows) * rowBytes }

    /// The slot of token `j0`, the first of a key tile (a multiple of ``ExactAttention/keyTile``): the tile's
    /// tokens follow in consecutive slots, since no tile wraps.
    @inline(__always)
    func tile(_ j0: Int) -> UnsafeRawPointer { UnsafeRawPointer(base + (j0 % rows) * rowBytes) }
}
