extension Architecture {
    /// Phi-3 / Phi-3.5 / Phi-4-mini: fused QKV and gate/up matrices, rotate-half RoPE (possibly partial),
    /// LongRoPE factors. llama.cpp ignores Phi-3's sliding window, and so does Stretch.
    public static let phi3: Architecture = {
        var a = Architecture(name: "phi3", pairing: .halves)
        a.fusedQKV = true
        a.fusedGateUp = true
        a.ropeFactors = .longAndShort
        return a
    }()
}
