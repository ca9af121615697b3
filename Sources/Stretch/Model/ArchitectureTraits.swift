/// What distinguishes the decoder architectures Stretch runs from one another.
///
/// They share one forward pass (``LlamaModel``); these switches cover the differences that GGUF metadata
/// does not state: RoPE pairing, Gemma's embedding scale, per-head Q/K norms, extra norms after attention
/// and the feed-forward block, the activation, and interleaved sliding-window layers.
public struct ArchitectureTraits: Sendable, Equatable {
    /// Feed-forward activation of the gated unit.
    public enum Activation: String, Sendable {
        /// SwiGLU: `silu(gate) · up`.
        case silu
        /// GeGLU with the tanh approximation of GELU: `gelu(gate) · up`.
        case geluTanh
    }

    /// RoPE pair layout (llama.cpp NORM for llama/mistral, NEOX otherwise).
    public let pairing: RotaryEmbedding.Pairing
    /// Multiply token embeddings by `sqrt(embedding_length)` (Gemma).
    public let scalesEmbedding: Bool
    /// RMSNorm each query and key head before RoPE (`attn_q_norm`, `attn_k_norm`).
    public let normalizesQueriesAndKeys: Bool
    /// RMSNorm the attention and feed-forward outputs before the residual add.
    public let hasPostNorms: Bool
    /// Activation of the gated feed-forward unit.
    public let activation: Activation
    /// Every `n`-th layer (1-based) attends globally; the others use the sliding window (Gemma 3: 6).
    public let globalLayerEvery: Int?
    /// RoPE base of the sliding-window layers (Gemma 3: 10,000), when it differs from the model's.
    public let localRopeBase: Double?

    /// Whether layer `index` (0-based) is a sliding-window layer.
    public func isLocal(layer index: Int) -> Bool {
        guard let n = globalLayerEvery else { return false }
        return (index + 1) % n != 0
    }

    /// The traits of a GGUF `general.architecture`, or nil when unsupported.
    public static func of(_ architecture: String) -> ArchitectureTraits? {
        switch architecture {
        case "llama", "mistral":
            return ArchitectureTraits(
                pairing: .adjacent, scalesEmbedding: false, normalizesQueriesAndKeys: false, hasPostNorms: false,
                activation: .silu, globalLayerEvery: nil, localRopeBase: nil)
        case "qwen2":
            return ArchitectureTraits(
                pairing: .halves, scalesEmbedding: false, normalizesQueriesAndKeys: false, hasPostNorms: false,
                activation: .silu, globalLayerEvery: nil, localRopeBase: nil)
        case "gemma3":
            // llama.cpp hard-codes Gemma 3's 5 local : 1 global pattern and the local RoPE base.
            return ArchitectureTraits(
                pairing: .halves, scalesEmbedding: true, normalizesQueriesAndKeys: true, hasPostNorms: true,
                activation: .geluTanh, globalLayerEvery: 6, localRopeBase: 10_000)
        default:
            return nil
        }
    }

    /// Architectures with traits.
    public static let supported = ["llama", "mistral", "qwen2", "gemma3"]
}
