extension Architecture {
    /// Qwen2 / Qwen2.5: the llama network with Q/K/V biases and rotate-half RoPE.
    public static let qwen2: Architecture = {
        var a = Architecture(name: "qwen2", pairing: .halves)
        a.readsQKVBias = true
        return a
    }()
}
