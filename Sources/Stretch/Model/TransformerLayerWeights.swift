/// The weights of one transformer block of a Llama-family model.
struct TransformerLayerWeights: @unchecked Sendable {
    let attentionNorm: UnsafePointer<Float>
    let wq: WeightMatrix
    let wk: WeightMatrix
    let wv: WeightMatrix
    let wo: WeightMatrix
    let bq: UnsafePointer<Float>?
    let bk: UnsafePointer<Float>?
    let bv: UnsafePointer<Float>?
    let ffnNorm: UnsafePointer<Float>
    let gate: WeightMatrix
    let up: WeightMatrix
    let down: WeightMatrix
}
