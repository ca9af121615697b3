extension Architecture {
    /// IBM Granite 3.x (dense): the llama network with four scalars from the file, `{name}.embedding_scale`,
    /// `residual_scale` (on each block's attention and feed-forward output), `attention.scale` (replacing
    /// `1/sqrt(headDim)`) and `logit_scale` (logits are divided by it).
    public static let granite: Architecture = {
        var a = Architecture(name: "granite", pairing: .adjacent)
        a.readsQKVBias = true
        a.readsGraniteScales = true
        return a
    }()
}
