extension Architecture {
    /// Qwen3 (dense): Qwen2 without biases, with a per-head RMSNorm on queries and keys before RoPE.
    public static let qwen3: Architecture = {
        var a = Architecture(name: "qwen3", pairing: .halves)
        a.normalizesQueriesAndKeys = true
        return a
    }()
}
