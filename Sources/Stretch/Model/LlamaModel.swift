import Foundation

/// Decoder-only transformer of the Llama family: `llama`, `mistral`, `qwen2` and `gemma3`.
///
/// RMSNorm, GQA attention with RoPE, gated feed-forward. Qwen2 adds Q/K/V biases (read from the file)
/// and rotate-half RoPE; Gemma 3 adds an embedding scale, per-head Q/K norms, post-norms, GELU, and
/// sliding-window layers with their own RoPE base (``ArchitectureTraits``). The model holds no
/// per-sequence state: the caller owns a ``KVCache`` per sequence.
// @unchecked Sendable: every stored property is a `let` set in `init` (weights are read-only mapped or owned
// buffers never written after load), so sharing one model between threads and sessions is safe.
public final class LlamaModel: @unchecked Sendable {
    /// Architectures this type implements.
    public static let architectures = ArchitectureTraits.supported

    /// The architecture's switches.
    public let traits: ArchitectureTraits

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
        guard let traits = ArchitectureTraits.of(config.architecture) else {
            throw ModelError.unsupportedArchitecture(
                file: file.path, architecture: config.architecture, supported: Self.architectures)
        }
        self.traits = traits
        self.config = config
        let d = config.embeddingLength
        let qDim = config.headCount * config.headDim
        let kvDim = config.headCountKV * config.headDim
        var owned: [UnsafeMutablePointer<Float>] = []

        func matrix(_ name: String, rows: Int, columns: Int) throws -> WeightMatrix {
            let t = try file.tensor(name)
            guard t.dims.count == 2, t.rowLength == columns, t.rowCount == rows else {
                throw GGUFError.unexpectedShape(file: file.path, tensor: name, expected: [columns, rows], found: t.dims)
            }
            return WeightMatrix(file: file, tensor: t)
        }
        func vector(_ name: String, length: Int) throws -> UnsafePointer<Float> {
            let t = try file.tensor(name)
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
        for l in 0..<config.blockCount {
            let p = "blk.\(l)."
            layers.append(TransformerLayerWeights(
                attentionNorm: try vector(p + "attn_norm.weight", length: d),
                wq: try matrix(p + "attn_q.weight", rows: qDim, columns: d),
                wk: try matrix(p + "attn_k.weight", rows: kvDim, columns: d),
                wv: try matrix(p + "attn_v.weight", rows: kvDim, columns: d),
                wo: try matrix(p + "attn_output.weight", rows: d, columns: qDim),
                bq: try optionalVector(p + "attn_q.bias", length: qDim),
                bk: try optionalVector(p + "attn_k.bias", length: kvDim),
                bv: try optionalVector(p + "attn_v.bias", length: kvDim),
                qNorm: traits.normalizesQueriesAndKeys ? try vector(p + "attn_q_norm.weight", length: config.headDim) : nil,
                kNorm: traits.normalizesQueriesAndKeys ? try vector(p + "attn_k_norm.weight", length: config.headDim) : nil,
                postAttentionNorm: traits.hasPostNorms ? try vector(p + "post_attention_norm.weight", length: d) : nil,
                postFeedForwardNorm: traits.hasPostNorms ? try vector(p + "post_ffw_norm.weight", length: d) : nil,
                ffnNorm: try vector(p + "ffn_norm.weight", length: d),
                gate: try matrix(p + "ffn_gate.weight", rows: config.feedForwardLength, columns: d),
                up: try matrix(p + "ffn_up.weight", rows: config.feedForwardLength, columns: d),
                down: try matrix(p + "ffn_down.weight", rows: d, columns: config.feedForwardLength),
                isLocal: traits.isLocal(layer: l) && config.slidingWindow != nil))
        }
        self.layers = layers
        self.ownedBuffers = owned
    }

    deinit { for p in ownedBuffers { p.deallocate() } }

    /// A new, empty cache for one sequence of at most `maxTokens` tokens, bound to `positions` for life.
    ///
    /// The map is checked against the model's trained context. Elements are as the load options say
    /// (F16 with `.auto` precision, F32 with `.f32`).
    public func makeCache(maxTokens: Int, positions: PositionMap = PlainPositions()) throws -> KVCache {
        try positions.validate(trainedContext: config.contextLength)
        // The cache grows by doubling, but a context it can never reach would fail mid-generation; refuse it
        // now, with the numbers, while the caller can still choose a smaller one.
        let elementType = options.resolvedKVElementType
        let bytesPerToken = config.blockCount * config.headCountKV * config.headDim * elementType.size
            * (positions.usesFarPositions ? 3 : 2)
        let (requested, overflow) = UInt64(max(0, maxTokens)).multipliedReportingOverflow(by: UInt64(bytesPerToken))
        if let available = MemoryUsage.availableBytes(), overflow || requested > UInt64(available) {
            throw ModelError.kvCacheTooLarge(
                tokens: maxTokens, bytesPerToken: bytesPerToken, requestedBytes: overflow ? .max : requested,
                availableBytes: available)
        }
        return KVCache(layers: config.blockCount, kvHeads: config.headCountKV, headDim: config.headDim,
                       positions: positions, maxTokens: maxTokens, elementType: elementType)
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
        defer { for p in [x, xn, q, k, v, att, tmp, gate, up] { p.deallocate() } }
        // Per entry: its own positions (the map its cache was made for) and, for sliding-window layers
        // (Gemma 3), a step with plain positions and the local RoPE base — those layers never see distances
        // beyond their window, so they need no extension below L.
        var steps: [AttentionStep] = []
        var localSteps: [AttentionStep?] = []
        let hasLocal = c.slidingWindow != nil && layers.contains(where: \.isLocal)
        for part in parts {
            steps.append(AttentionStep(
                cache: part.cache, tokens: part.tokens.count, rope: c.rope, positions: part.cache.positions,
                trainedContext: c.contextLength))
            if hasLocal, let window = c.slidingWindow {
                var localRope = c.rope
                if let base = traits.localRopeBase {
                    localRope = RotaryEmbedding(dimensions: c.rope.dimensions, base: base, pairing: c.rope.pairing)
                }
                localSteps.append(AttentionStep(
                    cache: part.cache, tokens: part.tokens.count, rope: localRope, positions: PlainPositions(),
                    trainedContext: c.contextLength, slidingWindow: window, updatesCacheRope: false))
            } else {
                localSteps.append(nil)
            }
        }
        for (p, part) in parts.enumerated() {
            for (t, token) in part.tokens.enumerated() { tokenEmbedding.dequantizeRow(token, into: x + (offsets[p] + t) * d) }
        }
        if traits.scalesEmbedding { VectorOps.scale(x, Float(d).squareRoot(), n * d) }

        for part in parts { part.cache.reserve(part.tokens.count) }
        for (l, w) in layers.enumerated() {
            for t in 0..<n { VectorOps.rmsNorm(x + t * d, w.attentionNorm, xn + t * d, d, eps: c.rmsEpsilon) }
            MatMul.multiply([w.wq, w.wk, w.wv], xn, segments: segments, [q, k, v], workers: pool, precision: precision)
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
                let step = w.isLocal ? localSteps[p]! : steps[p]
                let o = offsets[p]
                step.attend(cache: part.cache, layer: l, queries: q + o * qDim, keys: k + o * kvDim, values: v + o * kvDim,
                            heads: nh, out: att + o * qDim, workers: pool)
            }
            MatMul.multiply([w.wo], att, segments: segments, [tmp], workers: pool, precision: precision)
            if let post = w.postAttentionNorm {
                for t in 0..<n { VectorOps.rmsNorm(tmp + t * d, post, tmp + t * d, d, eps: c.rmsEpsilon) }
            }
            VectorOps.add(tmp, into: x, n * d)

            for t in 0..<n { VectorOps.rmsNorm(x + t * d, w.ffnNorm, xn + t * d, d, eps: c.rmsEpsilon) }
            MatMul.multiply([w.gate, w.up], xn, segments: segments, [gate, up], workers: pool, precision: precision)
            // Per entry: the vector kernels' scalar tails must fall on the same elements as for the entry alone.
            for (p, s) in segments.enumerated() {
                let o = offsets[p] * ffn
                switch traits.activation {
                case .silu: VectorOps.swiGLU(gate + o, up + o, s * ffn)
                case .geluTanh: VectorOps.geGLU(gate + o, up + o, s * ffn)
                }
            }
            MatMul.multiply([w.down], gate, segments: segments, [tmp], workers: pool, precision: precision)
            if let post = w.postFeedForwardNorm {
                for t in 0..<n { VectorOps.rmsNorm(tmp + t * d, post, tmp + t * d, d, eps: c.rmsEpsilon) }
            }
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
