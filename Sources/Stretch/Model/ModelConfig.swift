/// Hyperparameters of a decoder-only transformer, read from GGUF metadata.
public struct ModelConfig: Sendable, Equatable {
    /// `general.architecture` (e.g. `llama`, `qwen2`).
    public var architecture: String
    /// Context length the model was trained at (`{arch}.context_length`), called L in the spec.
    public var contextLength: Int
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
    /// The model's own rotary embedding (with the GGUF's rope scaling applied).
    public var rope: RotaryEmbedding
    /// Sliding-window size of local-attention layers (`{arch}.attention.sliding_window`), if any.
    public var slidingWindow: Int?
    /// The GGUF's own rope scaling, described (`none` when absent).
    public var ropeScaling: String

    /// Reads the hyperparameters of `file`.
    public init(file: GGUFFile) throws {
        let arch = try file.string("general.architecture")
        architecture = arch
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
        // llama.cpp's NORM mode (adjacent pairs) for llama-family GGUFs; NEOX (halves) for the others.
        let pairing = ArchitectureTraits.of(arch)?.pairing ?? (["llama", "mistral"].contains(arch) ? .adjacent : .halves)
        slidingWindow = try file.optionalInt("\(p).attention.sliding_window")
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
                let original = try file.optionalInt("\(p).rope.scaling.original_context_length")
                let yarn = try YaRNScaling(
                    factor: factor,
                    betaFast: try file.optionalDouble("\(p).rope.scaling.yarn_beta_fast") ?? 32,
                    betaSlow: try file.optionalDouble("\(p).rope.scaling.yarn_beta_slow") ?? 1,
                    originalContext: original)
                rope = yarn.scaled(rope, trainedContext: original ?? contextLength, sequenceLength: 0)
                ropeScaling = yarn.description
            case "none":
                break
            case let other:
                throw GGUFError.invalidValue(
                    file: file.path, key: "\(p).rope.scaling.type", reason: "'\(other)' is not supported (linear, yarn, none)")
            }
        }
        self.rope = rope

        try check(contextLength > 0, "\(p).context_length", "must be positive")
        try check(embeddingLength > 0 && blockCount > 0 && feedForwardLength > 0, "\(p).embedding_length", "sizes must be positive")
        try check(headCount > 0 && headCountKV > 0 && headCount % headCountKV == 0, "\(p).attention.head_count_kv",
                  "\(headCountKV) must divide the head count \(headCount)")
    }
}
