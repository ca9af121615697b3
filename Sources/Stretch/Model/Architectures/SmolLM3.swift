extension Architecture {
    /// SmolLM3: the llama network without biases where every fourth layer (1-based) uses no positional
    /// encoding at all (NoPE). llama.cpp hard-codes the interval of 4.
    public static let smollm3: Architecture = {
        var a = Architecture(name: "smollm3", pairing: .adjacent)
        a.noRopeLayerEvery = 4
        return a
    }()
}
