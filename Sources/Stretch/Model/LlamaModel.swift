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
        return KVCache(layers: config.blockCount, kvHeads: config.headCountKV, headDim: config.headDim,
                       positions: positions, maxTokens: maxTokens, elementType: options.resolvedKVElementType)
    }

    /// Runs `tokens` through the model after the tokens already in `cache`, appending them to it, with the
    /// position map the cache was made for.
    ///
    /// - Returns: logits, `[vocab]` for `.last` or `[tokens.count][vocab]` for `.all`.
    public func forward(_ tokens: [Int], cache: KVCache, logits: LogitsRequest = .last) throws -> [Float] {
        let positions = cache.positions
        let vocab = config.vocabularySize
        for t in tokens where t < 0 || t >= vocab { throw ModelError.invalidToken(id: t, vocabularySize: vocab) }
        guard cache.count + tokens.count <= cache.maxTokens else {
            throw ModelError.contextExceeded(
                tokens: cache.count + tokens.count, limit: cache.maxTokens,
                detail: "the cache was created for \(cache.maxTokens) tokens; use a larger cache or a shorter input")
        }
        if tokens.isEmpty { return [] }
        let count: Int
        switch logits {
        case .all: count = tokens.count * vocab
        case .last: count = vocab
        case .none: count = 0
        }
        var result = [Float](repeating: 0, count: count)
        var done = 0
        while done < tokens.count {
            let n = min(batchSize, tokens.count - done)
            let chunk = Array(tokens[done..<(done + n)])
            let isLast = done + n == tokens.count
            try result.withUnsafeMutableBufferPointer { buf in
                switch logits {
                case .all:
                    try forwardChunk(chunk, cache: cache, positions: positions, logitsOut: buf.baseAddress! + done * vocab,
                                     allLogits: true)
                case .last:
                    try forwardChunk(chunk, cache: cache, positions: positions,
                                     logitsOut: isLast ? buf.baseAddress! : nil, allLogits: false)
                case .none:
                    try forwardChunk(chunk, cache: cache, positions: positions, logitsOut: nil, allLogits: false)
                }
            }
            done += n
        }
        return result
    }

    private func forwardChunk(
        _ tokens: [Int], cache: KVCache, positions: PositionMap, logitsOut: UnsafeMutablePointer<Float>?,
        allLogits: Bool
    ) throws {
        let c = config
        let n = tokens.count
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
        let step = AttentionStep(
            cache: cache, tokens: n, rope: c.rope, positions: positions, trainedContext: c.contextLength)
        // Sliding-window layers (Gemma 3) never see distances beyond their window, so they keep plain
        // positions (no extension is needed below L) and their own RoPE base.
        var localStep: AttentionStep?
        if let window = c.slidingWindow, layers.contains(where: \.isLocal) {
            var localRope = c.rope
            if let base = traits.localRopeBase {
                localRope = RotaryEmbedding(dimensions: c.rope.dimensions, base: base, pairing: c.rope.pairing)
            }
            localStep = AttentionStep(
                cache: cache, tokens: n, rope: localRope, positions: PlainPositions(), trainedContext: c.contextLength,
                slidingWindow: window, updatesCacheRope: false)
        }
        for t in 0..<n { tokenEmbedding.dequantizeRow(tokens[t], into: x + t * d) }
        if traits.scalesEmbedding { VectorOps.scale(x, Float(d).squareRoot(), n * d) }

        cache.reserve(n)
        for (l, w) in layers.enumerated() {
            for t in 0..<n { VectorOps.rmsNorm(x + t * d, w.attentionNorm, xn + t * d, d, eps: c.rmsEpsilon) }
            MatMul.multiply([w.wq, w.wk, w.wv], xn, tokens: n, [q, k, v], workers: pool, precision: precision)
            for t in 0..<n {
                if let b = w.bq { VectorOps.add(b, into: q + t * qDim, qDim) }
                if let b = w.bk { VectorOps.add(b, into: k + t * kvDim, kvDim) }
                if let b = w.bv { VectorOps.add(b, into: v + t * kvDim, kvDim) }
            }
            if let qNorm = w.qNorm, let kNorm = w.kNorm {
                for r in 0..<(n * nh) { VectorOps.rmsNorm(q + r * hd, qNorm, q + r * hd, hd, eps: c.rmsEpsilon) }
                for r in 0..<(n * nkv) { VectorOps.rmsNorm(k + r * hd, kNorm, k + r * hd, hd, eps: c.rmsEpsilon) }
            }
            let layerStep = w.isLocal ? localStep! : step
            layerStep.attend(cache: cache, layer: l, queries: q, keys: k, values: v, heads: nh, out: att, workers: pool)
            MatMul.multiply(w.wo, att, tokens: n, tmp, workers: pool, precision: precision)
            if let post = w.postAttentionNorm {
                for t in 0..<n { VectorOps.rmsNorm(tmp + t * d, post, tmp + t * d, d, eps: c.rmsEpsilon) }
            }
            VectorOps.add(tmp, into: x, n * d)

            for t in 0..<n { VectorOps.rmsNorm(x + t * d, w.ffnNorm, xn + t * d, d, eps: c.rmsEpsilon) }
            MatMul.multiply([w.gate, w.up], xn, tokens: n, [gate, up], workers: pool, precision: precision)
            switch traits.activation {
            case .silu: VectorOps.swiGLU(gate, up, n * ffn)
            case .geluTanh: VectorOps.geGLU(gate, up, n * ffn)
            }
            MatMul.multiply(w.down, gate, tokens: n, tmp, workers: pool, precision: precision)
            if let post = w.postFeedForwardNorm {
                for t in 0..<n { VectorOps.rmsNorm(tmp + t * d, post, tmp + t * d, d, eps: c.rmsEpsilon) }
            }
            VectorOps.add(tmp, into: x, n * d)
        }
        cache.commit(n)

        guard let logitsOut else { return }
        if allLogits {
            for t in 0..<n { VectorOps.rmsNorm(x + t * d, outputNorm, xn + t * d, d, eps: c.rmsEpsilon) }
            MatMul.multiply(output, xn, tokens: n, logitsOut, workers: pool, precision: precision)
        } else {
            VectorOps.rmsNorm(x + (n - 1) * d, outputNorm, xn, d, eps: c.rmsEpsilon)
            MatMul.multiply(output, xn, tokens: 1, logitsOut, workers: pool, precision: precision)
        }
    }
}
