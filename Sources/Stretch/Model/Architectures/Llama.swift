extension Architecture {
    /// Llama 1–3 (and the many models converted as `llama`): SwiGLU, adjacent-pair RoPE (llama.cpp's
    /// converter permutes Q/K rows for it), optional Q/K/V biases, and Llama 3.1's `rope_freqs.weight`.
    public static let llama: Architecture = {
        var a = Architecture(name: "llama", pairing: .adjacent)
        a.readsQKVBias = true
        a.ropeFactors = .optionalFrequencyFactors
        return a
    }()
}
