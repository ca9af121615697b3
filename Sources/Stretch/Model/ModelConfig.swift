/// Hyperparameters of a decoder-only transformer, read from GGUF metadata.
public struct ModelConfig: Sendable, Equatable {
    /// `general.architecture` (e.g. `llama`, `qwen2`).
    public var architecture: String
    /// Context length the model runs at, called L in the spec: `{arch}.context_length`, or more when the
    /// GGUF's rope scaling stretches `rope.scaling.original_context_length` further (YaRN, linear).
    public var contextLength: Int
    /// `{arch}.rope.scaling.original_context_length`: the pre-training context a rope scaling extends.
    public var originalContextLength: Int?
    /// Width of the residual stream.
    public var embeddingLength: Int
    /// Number of transformer blocks.
    public var blockCount: Int
    /// Hidden width of the feed-forward block.
    public var feedForwardLength: Int
    /// Number of query heads.
    public var headCount: Int
    /// Number of key/value heads (GQA when smaller than ``headCount``).
    public var headCountKV: Int
    /// Width of one attention head.
    public var headDim: Int
    /// Vocabulary size (rows of the embedding matrix).
    public var vocabularySize: Int
    /// RMSNorm epsilon.
    public var rmsEpsilon: Float
    /// The model's own rotary embedding for global layers (with the GGUF's rope scaling and frequency
    /// factors applied; LongRoPE's short factors).
    public var rope: RotaryEmbedding
    /// LongRoPE's embedding with the long factors, for caches longer than ``originalContextLength`` (Phi-3).
    public var longRope: RotaryEmbedding?
    /// The rotary embedding of sliding-window layers: unscaled, at the architecture's local base if it has one.
    public var localRope: RotaryEmbedding
    /// Factor on queries on top of `1/sqrt(headDim)` (``Architecture/queryScaleByWidthAtLayerCount``).
    public var queryScale: Float
    /// Attention logit soft-capping (`{arch}.attn_logit_softcapping`), if the architecture has it.
    public var attentionSoftCap: Float?
    /// Final logit soft-capping (`{arch}.final_logit_softcapping`), if the architecture has it.
    public var finalSoftCap: Float?
    /// Sliding-window size of local-attention layers (`{arch}.attention.sliding_window`), if any.
    public var slidingWindow: Int?
    /// The GGUF's own rope scaling, described (`none` when absent).
    public var ropeScaling: String

    /// Factor on token embeddings (`{arch}.embedding_scale`, Granite), if any.
    public var embeddingScale: Float?
    /// Factor on each block's attention and feed-forward output before the residual add (Granite).
    public var residualScale: Float?
    /// Logits are divided by this (`{arch}.logit_scale`, Granite), if present.
    public var logitDivisor: Float?

    /// Tensors read here rather than by the network (RoPE factors), so the loader counts them as consumed.
    public var ropeFactorTensors: [String] = []

    /// Reads the hyperparameters of `file`; an architecture outside ``ArchitectureRegistry`` gets the
    /// plain llama-style reading (for `stretch inspect`).
    public init(file: GGUFFile) throws {
        let arch = try file.string("general.architecture")
        architecture = arch
        let known = ArchitectureRegistry.architecture(named: arch)
        let p = arch
        contextLength = try file.int("\(p).context_length")
        embeddingLength = try file.int("\(p).embedding_length")
        blockCount = try file.int("\(p).block_count")
        feedForwardLength = try file.int("\(p).feed_forward_length")
        headCount = try file.int("\(p).attention.head_count")
        headCountKV = try file.optionalInt("\(p).attention.head_count_kv") ?? headCount
        headDim = try file.optionalInt("\(p).attention.key_length") ?? (embeddingLength / max(1, headCount))
        rmsEpsilon = Float(try file.optionalDouble("\(p).attention.layer_norm_rms_epsilon") ?? 1e-5)
        let embd = try file.tensor("token_embd.weight")
        vocabularySize = embd.rowCount
        let ropeDims = try file.optionalInt("\(p).rope.dimension_count") ?? headDim
        func check(_ ok: Bool, _ key: String, _ reason: String) throws {
            if !ok { throw GGUFError.invalidValue(file: file.path, key: key, reason: reason) }
        }
        // Widths are checked against the embedding tensor (whose size the file bounds) before anything is sized
        // by them: a hostile embedding length once built a half-billion-entry rotary table here.
        try check(embeddingLength == embd.rowLength, "\(p).embedding_length",
                  "\(embeddingLength) differs from the row length \(embd.rowLength) of token_embd.weight")
        try check(headDim >= 1 && headDim <= embeddingLength, "\(p).attention.key_length",
                  "head width \(headDim) must be between 1 and the embedding length \(embeddingLength)")
        try check(ropeDims > 0 && ropeDims <= headDim && ropeDims % 2 == 0, "\(p).rope.dimension_count",
                  "\(ropeDims) must be even and at most the head dimension \(headDim)")
        let base = try file.optionalDouble("\(p).rope.freq_base") ?? 10000
        let pairing = known?.pairing ?? .halves
        slidingWindow = known?.globalLayerEvery == nil ? nil : try file.optionalInt("\(p).attention.sliding_window")
        if known?.softCapsLogits == true {
            attentionSoftCap = try file.optionalDouble("\(p).attn_logit_softcapping").map(Float.init)
            finalSoftCap = try file.optionalDouble("\(p).final_logit_softcapping").map(Float.init)
        }
        queryScale = 1
        if let layers = known?.queryScaleByWidthAtLayerCount, layers == blockCount {
            queryScale = (Float(headDim) / Float(embeddingLength / headCount)).squareRoot()
        }
        if known?.readsGraniteScales == true {
            embeddingScale = try file.optionalDouble("\(p).embedding_scale").map(Float.init)
            residualScale = try file.optionalDouble("\(p).residual_scale").map(Float.init)
            logitDivisor = try file.optionalDouble("\(p).logit_scale").map(Float.init)
            // The attention kernel applies 1/sqrt(headDim); the file's scale replaces it.
            if let s = try file.optionalDouble("\(p).attention.scale") {
                queryScale = Float(s * Double(headDim).squareRoot())
            }
        }
        localRope = RotaryEmbedding(dimensions: ropeDims, base: known?.localRopeBase ?? base, pairing: pairing)
        let original = try file.optionalInt("\(p).rope.scaling.original_context_length")
        originalContextLength = original
        // The GGUF's own `{arch}.rope.scaling.*` keys are part of the model: apply them to its RoPE.
        var rope = RotaryEmbedding(dimensions: ropeDims, base: base, pairing: pairing)
        ropeScaling = "none"
        let scalingType = try file.optionalString("\(p).rope.scaling.type")
        let factor = try file.optionalDouble("\(p).rope.scaling.factor") ?? (try file.optionalDouble("\(p).rope.scale_linear"))
        if let factor, factor > 0, factor != 1 {
            switch scalingType ?? "linear" {
            case "linear":
                rope = try LinearScaling(factor: factor).scaled(rope, trainedContext: 0, sequenceLength: 0)
                ropeScaling = "linear(s=\(factor))"
            case "yarn":
                let yarn = try YaRNScaling(
                    factor: factor,
                    betaFast: try file.optionalDouble("\(p).rope.scaling.yarn_beta_fast") ?? 32,
                    betaSlow: try file.optionalDouble("\(p).rope.scaling.yarn_beta_slow") ?? 1,
                    originalContext: original)
                rope = yarn.scaled(rope, trainedContext: original ?? contextLength, sequenceLength: 0)
                // llama.cpp multiplies YaRN's own factor by the file's `attn_factor` (on cos and sin).
                if let attn = try file.optionalDouble("\(p).rope.scaling.attn_factor") { rope.rotationScale *= attn }
                ropeScaling = yarn.description
            case "none":
                break
            case let other:
                throw GGUFError.invalidValue(
                    file: file.path, key: "\(p).rope.scaling.type", reason: "'\(other)' is not supported (linear, yarn, none)")
            }
            // The scaling is what makes the longer context usable: no cap at the original length.
            if let original, scalingType != "none" {
                contextLength = max(contextLength, Int((Double(original) * factor).rounded()))
            }
        }
        var longRope: RotaryEmbedding?
        var factorTensors: [String] = []
        func factors(_ name: String) throws -> [Float]? {
            guard let t = file.tensorsByName[name] else { return nil }
            guard t.elementCount == ropeDims / 2, t.type == .f32 else {
                throw GGUFError.unexpectedShape(file: file.path, tensor: name, expected: [ropeDims / 2], found: t.dims)
            }
            factorTensors.append(name)
            return file.floats(of: t)
        }
        switch known?.ropeFactors ?? .none {
        case .none:
            break
        case .optionalFrequencyFactors:
            // Llama 3.1's `llama3` scaling, baked into per-frequency factors by the converter.
            if let f = try factors("rope_freqs.weight") {
                rope = rope.dividingFrequencies(by: f)
                ropeScaling = ropeScaling == "none" ? "rope_freqs" : ropeScaling + " + rope_freqs"
            }
        case .longAndShort:
            let short = try factors("rope_factors_short.weight")
            let long = try factors("rope_factors_long.weight")
            if let short, let long {
                // LongRoPE's attention factor multiplies cos and sin (llama.cpp and transformers alike).
                rope.rotationScale *= try file.optionalDouble("\(p).rope.scaling.attn_factor") ?? 1
                longRope = rope.dividingFrequencies(by: long)
                rope = rope.dividingFrequencies(by: short)
                ropeScaling = "longrope(original=\(original ?? contextLength))"
            } else if short != nil || long != nil {
                throw GGUFError.missingTensor(
                    file: file.path, tensor: short == nil ? "rope_factors_short.weight" : "rope_factors_long.weight")
            }
        }
        self.rope = rope
        self.longRope = longRope
        ropeFactorTensors = factorTensors

        try check(contextLength > 0, "\(p).context_length", "must be positive")
        try check(embeddingLength > 0 && blockCount > 0 && feedForwardLength > 0, "\(p).embedding_length", "sizes must be positive")
        try check(headCount > 0 && headCountKV > 0 && headCount % headCountKV == 0, "\(p).attention.head_count_kv",
                  "\(headCountKV) must divide the head count \(headCount)")
    }
}
