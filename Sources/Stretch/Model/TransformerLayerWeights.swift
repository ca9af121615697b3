/// The weights of one transformer block.
// @unchecked: every pointer is into read-only weights (the mapping or buffers the model filled once at load).
struct TransformerLayerWeights: @unchecked Sendable {
    let attentionNorm: UnsafePointer<Float>
    /// Q, K, V projections: three matrices, or one whose rows are Q, K then V (Phi-3).
    let qkv: [WeightMatrix]
    let wo: WeightMatrix
    let bq: UnsafePointer<Float>?
    let bk: UnsafePointer<Float>?
    let bv: UnsafePointer<Float>?
    /// Per-head RMSNorm weights of queries and keys (Gemma 3, Qwen3), `headDim` each.
    let qNorm: UnsafePointer<Float>?
    let kNorm: UnsafePointer<Float>?
    /// RMSNorm weights applied to the attention / feed-forward outputs before the residual add (Gemma).
    let postAttentionNorm: UnsafePointer<Float>?
    let postFeedForwardNorm: UnsafePointer<Float>?
    let ffnNorm: UnsafePointer<Float>
    /// Gate and up projections: two matrices, or one whose rows are the gate's then the up's (Phi-3).
    let gateUp: [WeightMatrix]
    let down: WeightMatrix
    /// Whether this layer attends only within the sliding window.
    let isLocal: Bool
    /// Whether this layer rotates queries and keys (false for SmolLM3's NoPE layers).
    let usesRope: Bool
}
