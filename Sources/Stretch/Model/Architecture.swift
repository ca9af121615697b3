/// Everything Stretch knows about one GGUF `general.architecture`: the switches of the shared decoder
/// forward pass (``LlamaModel``) that GGUF metadata does not state.
///
/// One value per architecture lives in its own file under `Model/Architectures/`, and
/// ``ArchitectureRegistry`` lists them. The hyperparameter keys are `{name}.…` as llama.cpp writes them
/// (``ModelConfig``); tensor names are llama.cpp's (`token_embd`, `blk.N.attn_q`, …). Which tensors a file
/// must, may and must not hold follows from the switches: the loader refuses a tensor no switch consumes.
public struct Architecture: Sendable {
    /// Feed-forward activation of the gated unit.
    public enum Activation: String, Sendable {
        /// SwiGLU: `silu(gate) · up`.
        case silu
        /// GeGLU with the tanh approximation of GELU: `gelu(gate) · up`.
        case geluTanh
    }

    /// Per-frequency RoPE factors stored as tensors.
    public enum RopeFactors: Sendable, Equatable {
        /// None.
        case none
        /// `rope_freqs.weight` when present (Llama 3.1+: the `llama3` rope scaling baked into factors).
        case optionalFrequencyFactors
        /// `rope_factors_short.weight` and `rope_factors_long.weight` (LongRoPE); the long ones serve caches
        /// longer than `rope.scaling.original_context_length`, as llama.cpp chooses.
        case longAndShort
    }

    /// The GGUF `general.architecture` value.
    public let name: String
    /// RoPE pair layout (llama.cpp NORM: `.adjacent`; NEOX: `.halves`).
    public var pairing: RotaryEmbedding.Pairing
    /// Multiply token embeddings by `sqrt(embedding_length)` (Gemma).
    public var scalesEmbedding = false
    /// Read `attn_q.bias`, `attn_k.bias`, `attn_v.bias` when the file has them (Qwen2; optional in llama).
    public var readsQKVBias = false
    /// One `attn_qkv.weight` holding Q, K and V rows in that order instead of three matrices (Phi-3).
    public var fusedQKV = false
    /// `ffn_up.weight` holds the gate rows then the up rows; there is no `ffn_gate.weight` (Phi-3).
    public var fusedGateUp = false
    /// RMSNorm each query and key head before RoPE (`attn_q_norm`, `attn_k_norm`).
    public var normalizesQueriesAndKeys = false
    /// RMSNorm the attention and feed-forward outputs before the residual add (`post_attention_norm`,
    /// `post_ffw_norm`).
    public var hasPostNorms = false
    /// Activation of the gated feed-forward unit.
    public var activation = Activation.silu
    /// Read `{name}.attn_logit_softcapping` and `{name}.final_logit_softcapping` (Gemma 2).
    public var softCapsLogits = false
    /// Every `n`-th layer (1-based) attends globally, the others within `{name}.attention.sliding_window`
    /// (Gemma 2: 2, Gemma 3: 6); nil: every layer is global (a sliding-window key is then ignored, as
    /// llama.cpp does for Phi-3).
    public var globalLayerEvery: Int?
    /// Every `n`-th layer (1-based) attends without RoPE (SmolLM3: 4); such layers have no positions, so
    /// context extensions do not apply to them.
    public var noRopeLayerEvery: Int?
    /// RoPE base of the sliding-window layers when it differs from the model's (Gemma 3: 10,000).
    public var localRopeBase: Double?
    /// Per-frequency RoPE factor tensors.
    public var ropeFactors = RopeFactors.none
    /// Read Granite's multipliers: `{name}.embedding_scale`, `{name}.residual_scale`,
    /// `{name}.attention.scale` and `{name}.logit_scale`.
    public var readsGraniteScales = false
    /// With this many layers, queries are scaled by `1/sqrt(embedding/heads)` instead of `1/sqrt(headDim)`
    /// (llama.cpp's rule for the 27B Gemma 2 and Gemma 3, whose `query_pre_attn_scalar` differs).
    public var queryScaleByWidthAtLayerCount: Int?

    /// Creates an architecture; every switch not named is off.
    public init(name: String, pairing: RotaryEmbedding.Pairing) {
        self.name = name
        self.pairing = pairing
    }

    /// Whether layer `index` (0-based) rotates queries and keys.
    public func usesRope(layer index: Int) -> Bool {
        guard let n = noRopeLayerEvery else { return true }
        return (index + 1) % n != 0
    }

    /// Whether layer `index` (0-based) is a sliding-window layer.
    public func isLocal(layer index: Int) -> Bool {
        guard let n = globalLayerEvery else { return false }
        return (index + 1) % n != 0
    }
}
