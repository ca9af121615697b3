/// The numeric path a model runs on.
public enum ComputePrecision: String, Sendable, CaseIterable {
    /// The fastest supported path; may quantize activations (as llama.cpp does) or store the KV cache in F16.
    case auto
    /// Weights dequantized to float32; activations, accumulation and the KV cache in float32 end to end.
    /// Use it to tell a model problem from an engine problem.
    case f32
}
