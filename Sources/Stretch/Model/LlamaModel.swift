import Foundation

/// Decoder-only transformer: the one forward pass of every architecture in ``ArchitectureRegistry``.
///
/// RMSNorm, GQA attention with RoPE, gated feed-forward; the ``Architecture`` switches add biases, fused
/// projections, per-head Q/K norms, post-norms, GELU, soft-capping, sliding-window layers with their own
/// RoPE, and per-frequency RoPE factors. The model holds no per-sequence state: the caller owns a
/// ``KVCache`` per sequence.
// @unchecked Sendable: every stored property is a `let` set in `init` (weights are read-only mapped or owned
// buffers never written after load), so sharing one model between threads and sessions is safe.
public final class LlamaModel: @unchecked Sendable {
    /// Architectures this type implements.
    public static var architectures: [String] { ArchitectureRegistry.names }

    /// The architecture's switches.
    public let architecture: Architecture

    /// Hyperparameters.
    public let config: ModelConfig
    /// The file the weights are mapped from (kept alive for the pointers below).
    public let file: GGUFFile
    /// How the model runs (threads, prefill batch, precision, KV type), fixed at load.
    public let options: LoadOptions
    /// Worker threads for matrix products and attention (``LoadOptions/threads``).
    public var threads: Int { options.threads }
    /// Tokens per forward chunk during prefill (``LoadOptions/batchSize``).
    public var batchSize: Int { options.batchSize }
    /// The numeric path (``LoadOptions/precision``).
    public var precision: ComputePrecision { options.precision }
    /// The worker threads, shut down when the model is released.
    private let pool: WorkerPool
    /// What each layer keeps in a KV cache: sliding-window layers a ring of their window, NoPE layers plain keys
    /// (fixed at load; every forward checks its caches against it).
    public let kvLayerKinds: [KVLayerKind]

    let tokenEmbedding: WeightMatrix
    let output: WeightMatrix
    let outputNorm: UnsafePointer<Float>
    let layers: [TransformerLayerWeights]
    private let ownedBuffers: [UnsafeMutablePointer<Float>]

    /// Loads the model from an opened GGUF, checking every tensor's shape.
    public init(file: GGUFFile, options: LoadOptions = LoadOptions()) throws {
        try options.validate()
        if options.checksTensors { try file.checkFinite() }
        self.file = file
        self.options = options
        pool = WorkerPool(threads: options.threads)
        let config = try ModelConfig(file: file)
        guard let arch = ArchitectureRegistry.architecture(named: config.architecture) else {
            throw ModelError.unsupportedArchitecture(
                file: file.path, architecture: config.architecture, supported: Self.architectures)
        }
        self.architecture = arch
        self.config = config
        kvLayerKinds = KVLayerKind.layers(of: arch, count: config.blockCount, slidingWindow: config.slidingWindow)
        for (name, type) in [("key", options.resolvedKVKeyType), ("value", options.resolvedKVValueType)]
        where !type.supports(headDim: config.headDim) {
            throw ModelError.invalidOption(
                name: "KV cache \(name) type", value: type.rawValue,
                requirement: "its blocks of \(type.blockSize) need a head width that is a multiple of \(type.blockSize); "
                    + "this model's is \(config.headDim) (use f16 or f32)")
        }
        let d = config.embeddingLength
        let qDim = config.headCount * config.headDim
        let kvDim = config.headCountKV * config.headDim
        var owned: [UnsafeMutablePointer<Float>] = []
        // Every tensor read is recorded: one left over is an error (llama.cpp refuses such files too).
        var consumed = Set(config.ropeFactorTensors)

        func matrix(_ name: String, rows: Int, columns: Int) throws -> WeightMatrix {
            let t = try file.tensor(name)
            consumed.insert(name)
            guard t.dims.count == 2, t.rowLength == columns, t.rowCount == rows else {
                throw GGUFError.unexpectedShape(file: file.path, tensor: name, expected: [columns, rows], found: t.dims)
            }
            return WeightMatrix(file: file, tensor: t)
        }
        func vector(_ name: String, length: Int) throws -> UnsafePointer<Float> {
            let t = try file.tensor(name)
            consumed.insert(name)
            guard t.elementCount == length else {
                throw GGUFError.unexpectedShape(file: file.path, tensor: name, expected: [length], found: t.dims)
            }
            if t.type == .f32 { return file.data(of: t).assumingMemoryBound(to: Float.self) }
            let p = UnsafeMutablePointer<Float>.allocate(capacity: length)
            Dequantize.row(t.type, file.data(of: t), p, count: length)
            owned.append(p)
            return UnsafePointer(p)
        }
        func optionalVector(_ name: String, length: Int) throws -> UnsafePointer<Float>? {
            file.tensorsByName[name] == nil ? nil : try vector(name, length: length)
        }

        tokenEmbedding = try matrix("token_embd.weight", rows: config.vocabularySize, columns: d)
        output = file.tensorsByName["output.weight"] == nil
            ? tokenEmbedding : try matrix("output.weight", rows: config.vocabularySize, columns: d)
        outputNorm = try vector("output_norm.weight", length: d)
        var layers: [TransformerLayerWeights] = []
        let ffn = config.feedForwardLength
        for l in 0..<config.blockCount {
            let p = "blk.\(l)."
            let hasBias = arch.readsQKVBias
            layers.append(TransformerLayerWeights(
                attentionNorm: try vector(p + "attn_norm.weight", length: d),
                qkv: arch.fusedQKV
                    ? [try matrix(p + "attn_qkv.weight", rows: qDim + 2 * kvDim, columns: d)]
                    : [try matrix(p + "attn_q.weight", rows: qDim, columns: d),
                       try matrix(p + "attn_k.weight", rows: kvDim, columns: d),
                       try matrix(p + "attn_v.weight", rows: kvDim, columns: d)],
                wo: try matrix(p + "attn_output.weight", rows: d, columns: qDim),
                bq: hasBias ? try optionalVector(p + "attn_q.bias", length: qDim) : nil,
                bk: hasBias ? try optionalVector(p + "attn_k.bias", length: kvDim) : nil,
                bv: hasBias ? try optionalVector(p + "attn_v.bias", length: kvDim) : nil,
                qNorm: arch.normalizesQueriesAndKeys ? try vector(p + "attn_q_norm.weight", length: config.headDim) : nil,
                kNorm: arch.normalizesQueriesAndKeys ? try vector(p + "attn_k_norm.weight", length: config.headDim) : nil,
                postAttentionNorm: arch.hasPostNorms ? try vector(p + "post_attention_norm.weight", length: d) : nil,
                postFeedForwardNorm: arch.hasPostNorms ? try vector(p + "post_ffw_norm.weight", length: d) : nil,
                ffnNorm: try vector(p + "ffn_norm.weight", length: d),
                gateUp: arch.fusedGateUp
                    ? [try matrix(p + "ffn_up.weight", rows: 2 * ffn, columns: d)]
                    : [try matrix(p + "ffn_gate.weight", rows: ffn, columns: d),
                       try matrix(p + "ffn_up.weight", rows: ffn, columns: d)],
                down: try matrix(p + "ffn_down.weight", rows: d, columns: ffn),
                isLocal: arch.isLocal(layer: l) && config.slidingWindow != nil,
                usesRope: arch.usesRope(layer: l)))
        }
        if let unused = file.tensors.first(where: { !consumed.contains($0.name) }) {
            throw ModelError.unusedTensor(file: file.path, tensor: unused.name, architecture: arch.name)
        }
        self.layers = layers
        self.ownedBuffers = owned
    }

    deinit { for p in ownedBuffers { p.deallocate() } }

    /// The global layers' rotary embedding for a sequence in `cache`: LongRoPE's long factors when the cache
    /// holds more than the original context (llama.cpp decides by the context size the same way).
    func rope(for cache: KVCache) -> RotaryEmbedding {
        if let long = config.longRope, let original = config.originalContextLength, cache.maxTokens > original {
            return long
        }
        return config.rope
    }

    /// A new, empty cache for one sequence of at most `maxTokens` tokens, bound to `positions` for life.
    ///
    /// The map is checked against the model's trained context. Keys and values are stored as the load options
    /// say (F16 with `.auto` precision, F32 with `.f32`, or the types chosen there), each layer keeping what its
    /// attention reads (``kvLayerKinds``), with rings sized for passes of ``batchSize`` tokens (none with
    /// ``LoadOptions/keepsFullKVHistory``).
    public func makeCache(maxTokens: Int, positions: PositionMap = PlainPositions()) throws -> KVCache {
        try positions.validate(trainedContext: config.contextLength)
        // The cache grows by doubling, but a context it can never reach would fail mid-generation; refuse it
        // now, with the numbers, while the caller can still choose a smaller one.
        let footprint = kvFootprint(positions: positions)
        let requested = footprint.bytes(tokens: maxTokens)
        if let available = MemoryUsage.availableBytes(), requested > UInt64(available) {
            throw ModelError.kvCacheTooLarge(
                tokens: maxTokens, bytesPerToken: footprint.bytesPerToken, requestedBytes: requested,
                availableBytes: available)
        }
        return KVCache(layers: config.blockCount, kvHeads: config.headCountKV, headDim: config.headDim,
                       positions: positions, maxTokens: maxTokens, keyType: options.resolvedKVKeyType,
                       valueType: options.resolvedKVValueType, layerKinds: kvLayerKinds, chunkTokens: batchSize,
                       rings: !options.keepsFullKVHistory)
    }

    /// The KV cache memory of a cache for `positions` with this model's shape and the load options' key and
    /// value types: bytes per token plus the rings (near keys of maps with a far copy, sliding-window layers)
    /// sized for passes of ``batchSize`` tokens.
    public func kvFootprint(positions: PositionMap) -> KVCacheFootprint {
        KVCache.footprint(
            layerKinds: kvLayerKinds, kvHeads: config.headCountKV, headDim: config.headDim,
            keyType: options.resolvedKVKeyType, valueType: options.resolvedKVValueType, positions: positions,
            chunkTokens: batchSize, rings: !options.keepsFullKVHistory)
    }

    /// Runs `tokens` through the model after the tokens already in `cache`, appending them to it, with the
    /// position map the cache was made for.
    ///
    /// The batch of one of ``forward(batch:logits:)``.
    /// - Returns: logits, `[vocab]` for `.last` or `[tokens.count][vocab]` for `.all`.
    public func forward(_ tokens: [Int], cache: KVCache, logits: LogitsRequest = .last) throws -> [Float] {
        try forward(batch: [(tokens, cache)], logits: logits)[0]
    }

    /// Runs several sequences at once: each entry's `tokens` after the tokens already in its own `cache`
    /// (one token for a decoding sequence, a prompt chunk for a prefilling one), appending them to it.
    ///
    /// Every entry's tokens are stacked into one activation matrix for each matrix product, so the weights
    /// are read once per step for the whole batch; attention runs per entry with its own cache and the
    /// position map that cache was made for (plain and extended caches may be mixed). Each entry gets the
    /// logits it would get from ``forward(_:cache:logits:)`` alone: entries longer than ``batchSize`` run
    /// in the same chunks, and each product takes the path that entry alone would take. No cache may appear
    /// twice; nothing is appended to any cache if a check fails.
    /// - Returns: per entry, as ``forward(_:cache:logits:)`` returns (empty for an entry without tokens).
    public func forward(batch: [(tokens: [Int], cache: KVCache)], logits: LogitsRequest = .last) throws -> [[Float]] {
        try forward(batch: batch, logits: Array(repeating: logits, count: batch.count))
    }

    /// ``forward(batch:logits:)`` with a logits request per entry (a server needs `.last` for decoding
    /// sequences and for a prompt's last chunk, `.none` for the chunks before it).
    public func forward(batch: [(tokens: [Int], cache: KVCache)], logits requests: [LogitsRequest]) throws -> [[Float]] {
        precondition(requests.count == batch.count, "one logits request per entry")
        let vocab = config.vocabularySize
        var seen = Set<ObjectIdentifier>()
        for entry in batch {
            precondition(seen.insert(ObjectIdentifier(entry.cache)).inserted, "a cache appears twice in one batch")
            for t in entry.tokens where t < 0 || t >= vocab { throw ModelError.invalidToken(id: t, vocabularySize: vocab) }
            let cache = entry.cache
            // Each layer's attention reads what its kind keeps (a ring too short would be read stale).
            guard cache.layerKinds == kvLayerKinds, cache.headDim == config.headDim, cache.kvHeads == config.headCountKV else {
                throw ModelError.incompatibleCache(
                    detail: "the cache's layers (\(cache.layers), \(cache.kvHeads) KV heads of \(cache.headDim)) do not "
                        + "match the model's; make it with makeCache(maxTokens:positions:)")
            }
            guard cache.count + entry.tokens.count <= cache.maxTokens else {
                throw ModelError.contextExceeded(
                    tokens: cache.count + entry.tokens.count, limit: cache.maxTokens,
                    detail: "the cache was created for \(cache.maxTokens) tokens; use a larger cache or a shorter input")
            }
        }
        var results: [[Float]] = zip(batch, requests).map { entry, logits in
            if entry.tokens.isEmpty { return [] }
            switch logits {
            case .all: return [Float](repeating: 0, count: entry.tokens.count * vocab)
            case .last: return [Float](repeating: 0, count: vocab)
            case .none: return []
            }
        }
        // Round r runs chunk r of every entry that still has one: an entry alone gets the chunks of a
        // single-sequence forward (chunk sizes choose the matrix-product path, hence the rounding).
        var done = 0
        while true {
            var parts: [ChunkPart] = []
            for (i, entry) in batch.enumerated() where done < entry.tokens.count {
                let n = min(batchSize, entry.tokens.count - done)
                let isLast = done + n == entry.tokens.count
                let wants: ChunkPart.Logits
                switch requests[i] {
                case .all: wants = .all(offset: done * vocab)
                case .last: wants = isLast ? .last : .none
                case .none: wants = .none
                }
                parts.append(ChunkPart(entry: i, tokens: Array(entry.tokens[done..<(done + n)]), cache: entry.cache, logits: wants))
            }
            if parts.isEmpty { break }
            try forwardChunk(parts, results: &results)
            done += batchSize
        }
        return results
    }

    /// One sequence's share of a batched chunk.
    private struct ChunkPart {
        enum Logits {
            case none, last
            /// Every token's logits, written from this offset of the entry's result.
            case all(offset: Int)
        }
        let entry: Int
        let tokens: [Int]
        let cache: KVCache
        let logits: Logits
    }

    private func forwardChunk(_ parts: [ChunkPart], results: inout [[Float]]) throws {
        let c = config
        let segments = parts.map(\.tokens.count)
        var offsets: [Int] = []
        var n = 0
        for s in segments {
            offsets.append(n)
            n += s
        }
        let d = c.embeddingLength
        let hd = c.headDim
        let nh = c.headCount
        let nkv = c.headCountKV
        let qDim = nh * hd
        let kvDim = nkv * hd
        let ffn = c.feedForwardLength
        let pool = self.pool
        let precision = self.precision
        let x = UnsafeMutablePointer<Float>.allocate(capacity: n * d)
        let xn = UnsafeMutablePointer<Float>.allocate(capacity: n * d)
        let q = UnsafeMutablePointer<Float>.allocate(capacity: n * qDim)
        let k = UnsafeMutablePointer<Float>.allocate(capacity: n * kvDim)
        let v = UnsafeMutablePointer<Float>.allocate(capacity: n * kvDim)
        let att = UnsafeMutablePointer<Float>.allocate(capacity: n * qDim)
        let tmp = UnsafeMutablePointer<Float>.allocate(capacity: n * d)
        let gate = UnsafeMutablePointer<Float>.allocate(capacity: n * ffn)
        let up = UnsafeMutablePointer<Float>.allocate(capacity: n * ffn)
        // Fused projections (Phi-3) write here first, then split into q/k/v and gate/up.
        let fusedWidth = architecture.fusedQKV ? qDim + 2 * kvDim : 0
        let fusedQKV = UnsafeMutablePointer<Float>.allocate(capacity: max(1, n * fusedWidth))
        let fusedGateUp = UnsafeMutablePointer<Float>.allocate(capacity: architecture.fusedGateUp ? n * 2 * ffn : 1)
        defer { for p in [x, xn, q, k, v, att, tmp, gate, up, fusedQKV, fusedGateUp] { p.deallocate() } }
        // Per entry: its own positions (the map its cache was made for) and, for sliding-window layers
        // (Gemma 2 and 3), a step with plain positions and the unscaled local RoPE — those layers never see
        // distances beyond their window, so context extensions leave them alone.
        var steps: [AttentionStep] = []
        var localSteps: [AttentionStep?] = []
        // NoPE layers (SmolLM3): a rotation by zero angles is the identity, and without positions there is
        // nothing for a context extension to change.
        var noRopeSteps: [AttentionStep?] = []
        let hasNoRope = layers.contains { !$0.usesRope }
        var identity = c.rope
        identity.inverseFrequencies = [Double](repeating: 0, count: c.rope.inverseFrequencies.count)
        identity.rotationScale = 1
        let hasLocal = c.slidingWindow != nil && layers.contains(where: \.isLocal)
        let softCap = c.attentionSoftCap ?? 0
        for part in parts {
            steps.append(AttentionStep(
                cache: part.cache, tokens: part.tokens.count, rope: rope(for: part.cache), positions: part.cache.positions,
                trainedContext: c.contextLength, queryScale: c.queryScale, softCap: softCap))
            if hasLocal, let window = c.slidingWindow {
                localSteps.append(AttentionStep(
                    cache: part.cache, tokens: part.tokens.count, rope: c.localRope, positions: PlainPositions(),
                    trainedContext: c.contextLength, slidingWindow: window, updatesCacheRope: false,
                    queryScale: c.queryScale, softCap: softCap))
            } else {
                localSteps.append(nil)
            }
            noRopeSteps.append(hasNoRope ? AttentionStep(
                cache: part.cache, tokens: part.tokens.count, rope: identity, positions: PlainPositions(),
                trainedContext: c.contextLength, updatesCacheRope: false, queryScale: c.queryScale, softCap: softCap) : nil)
        }
        for (p, part) in parts.enumerated() {
            for (t, token) in part.tokens.enumerated() { tokenEmbedding.dequantizeRow(token, into: x + (offsets[p] + t) * d) }
        }
        if architecture.scalesEmbedding { VectorOps.scale(x, Float(d).squareRoot(), n * d) }
        if let e = c.embeddingScale { VectorOps.scale(x, e, n * d) }

        for part in parts { part.cache.reserve(part.tokens.count) }
        for (l, w) in layers.enumerated() {
            for t in 0..<n { VectorOps.rmsNorm(x + t * d, w.attentionNorm, xn + t * d, d, eps: c.rmsEpsilon) }
            if w.qkv.count == 1 {
                MatMul.multiply(w.qkv, xn, segments: segments, [fusedQKV], workers: pool, precision: precision)
                for t in 0..<n {
                    let row = fusedQKV + t * fusedWidth
                    (q + t * qDim).update(from: row, count: qDim)
                    (k + t * kvDim).update(from: row + qDim, count: kvDim)
                    (v + t * kvDim).update(from: row + qDim + kvDim, count: kvDim)
                }
            } else {
                MatMul.multiply(w.qkv, xn, segments: segments, [q, k, v], workers: pool, precision: precision)
            }
            for t in 0..<n {
                if let b = w.bq { VectorOps.add(b, into: q + t * qDim, qDim) }
                if let b = w.bk { VectorOps.add(b, into: k + t * kvDim, kvDim) }
                if let b = w.bv { VectorOps.add(b, into: v + t * kvDim, kvDim) }
            }
            if let qNorm = w.qNorm, let kNorm = w.kNorm {
                for r in 0..<(n * nh) { VectorOps.rmsNorm(q + r * hd, qNorm, q + r * hd, hd, eps: c.rmsEpsilon) }
                for r in 0..<(n * nkv) { VectorOps.rmsNorm(k + r * hd, kNorm, k + r * hd, hd, eps: c.rmsEpsilon) }
            }
            for (p, part) in parts.enumerated() {
                let step = !w.usesRope ? noRopeSteps[p]! : w.isLocal ? localSteps[p]! : steps[p]
                let o = offsets[p]
                step.attend(cache: part.cache, layer: l, queries: q + o * qDim, keys: k + o * kvDim, values: v + o * kvDim,
                            heads: nh, out: att + o * qDim, workers: pool)
            }
            MatMul.multiply([w.wo], att, segments: segments, [tmp], workers: pool, precision: precision)
            if let post = w.postAttentionNorm {
                for t in 0..<n { VectorOps.rmsNorm(tmp + t * d, post, tmp + t * d, d, eps: c.rmsEpsilon) }
            }
            if let r = c.residualScale { VectorOps.scale(tmp, r, n * d) }
            VectorOps.add(tmp, into: x, n * d)

            for t in 0..<n { VectorOps.rmsNorm(x + t * d, w.ffnNorm, xn + t * d, d, eps: c.rmsEpsilon) }
            if w.gateUp.count == 1 {
                MatMul.multiply(w.gateUp, xn, segments: segments, [fusedGateUp], workers: pool, precision: precision)
                for t in 0..<n {
                    (gate + t * ffn).update(from: fusedGateUp + t * 2 * ffn, count: ffn)
                    (up + t * ffn).update(from: fusedGateUp + t * 2 * ffn + ffn, count: ffn)
                }
            } else {
                MatMul.multiply(w.gateUp, xn, segments: segments, [gate, up], workers: pool, precision: precision)
            }
            // Per entry: the vector kernels' scalar tails must fall on the same elements as for the entry alone.
            for (p, s) in segments.enumerated() {
                let o = offsets[p] * ffn
                switch architecture.activation {
                case .silu: VectorOps.swiGLU(gate + o, up + o, s * ffn)
                case .geluTanh: VectorOps.geGLU(gate + o, up + o, s * ffn)
                }
            }
            MatMul.multiply([w.down], gate, segments: segments, [tmp], workers: pool, precision: precision)
            if let post = w.postFeedForwardNorm {
                for t in 0..<n { VectorOps.rmsNorm(tmp + t * d, post, tmp + t * d, d, eps: c.rmsEpsilon) }
            }
            if let r = c.residualScale { VectorOps.scale(tmp, r, n * d) }
            VectorOps.add(tmp, into: x, n * d)
        }
        for part in parts { part.cache.commit(part.tokens.count) }

        // Output rows: every token of `.all` entries, the last token of `.last` entries, gathered into `xn`
        // so one product serves them all (a `.last` row is a one-token segment, as alone).
        var outSegments: [Int] = []
        var outParts: [Int] = []
        var row = 0
        for (p, part) in parts.enumerated() {
            let rows: Range<Int>
            switch part.logits {
            case .none: continue
            case .last: rows = (offsets[p] + segments[p] - 1)..<(offsets[p] + segments[p])
            case .all: rows = offsets[p]..<(offsets[p] + segments[p])
            }
            for t in rows {
                VectorOps.rmsNorm(x + t * d, outputNorm, xn + row * d, d, eps: c.rmsEpsilon)
                row += 1
            }
            outSegments.append(rows.count)
            outParts.append(p)
        }
        if outParts.isEmpty { return }
        let vocab = c.vocabularySize
        let logits = UnsafeMutablePointer<Float>.allocate(capacity: row * vocab)
        defer { logits.deallocate() }
        MatMul.multiply([output], xn, segments: outSegments, [logits], workers: pool, precision: precision)
        if let divisor = c.logitDivisor { VectorOps.scale(logits, 1 / divisor, row * vocab) }
        if let cap = c.finalSoftCap, cap > 0 {
            for i in 0..<(row * vocab) { logits[i] = cap * tanhf(logits[i] / cap) }
        }
        var from = 0
        for (j, p) in outParts.enumerated() {
            let part = parts[p]
            let count = outSegments[j] * vocab
            let offset: Int
            if case let .all(o) = part.logits { offset = o } else { offset = 0 }
            results[part.entry].withUnsafeMutableBufferPointer { buf in
                (buf.baseAddress! + offset).update(from: logits + from, count: count)
            }
            from += count
        }
    }
}
