extension Architecture {
    /// Gemma 2: scaled embeddings, post-norms, GeGLU, attention and final logit soft-capping, and
    /// sliding-window attention on every other layer (the even ones, 0-based).
    public static let gemma2: Architecture = {
        var a = Architecture(name: "gemma2", pairing: .halves)
        a.scalesEmbedding = true
        a.hasPostNorms = true
        a.activation = .geluTanh
        a.softCapsLogits = true
        a.globalLayerEvery = 2
        a.queryScaleByWidthAtLayerCount = 46
        return a
    }()
}
