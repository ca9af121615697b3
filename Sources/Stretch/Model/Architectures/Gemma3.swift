extension Architecture {
    /// Gemma 3 (text): Gemma 2 without soft-capping, with per-head Q/K norms and five sliding-window layers
    /// (RoPE base 10,000) to each global one. llama.cpp hard-codes the pattern and the local base.
    public static let gemma3: Architecture = {
        var a = Architecture(name: "gemma3", pairing: .halves)
        a.scalesEmbedding = true
        a.normalizesQueriesAndKeys = true
        a.hasPostNorms = true
        a.activation = .geluTanh
        a.globalLayerEvery = 6
        a.localRopeBase = 10_000
        a.queryScaleByWidthAtLayerCount = 62
        return a
    }()
}
