extension Architecture {
    /// Mistral as some converters name it: the llama network (adjacent-pair RoPE, optional Q/K/V biases).
    public static let mistral: Architecture = {
        var a = Architecture(name: "mistral", pairing: .adjacent)
        a.readsQKVBias = true
        return a
    }()
}
