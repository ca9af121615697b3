import Foundation

/// Picks the next token from logits: repetition penalty, top-k, top-p, min-p, temperature, draw.
///
/// The order follows llama.cpp's default sampler chain so the same settings mean the same thing.
public struct Sampler: Sendable {
    /// The settings.
    public let parameters: SamplingParameters
    /// The seed actually used (drawn from the system when none was given).
    public let seed: UInt64
    private var rng: SeededGenerator

    /// Creates a sampler; validates the parameters.
    public init(_ parameters: SamplingParameters) throws {
        try parameters.validate()
        self.parameters = parameters
        self.seed = parameters.seed ?? UInt64.random(in: 0...UInt64.max)
        self.rng = SeededGenerator(seed: seed)
    }

    /// Chooses a token given the logits and the tokens seen so far (for the repetition penalty).
    public mutating func sample(logits: [Float], history: [Int]) -> Int {
        let p = parameters
        var logits = logits
        if p.repetitionPenalty != 1 {
            let window = p.repetitionWindow < 0 ? history.count : min(p.repetitionWindow, history.count)
            for t in Set(history.suffix(window)) where t >= 0 && t < logits.count {
                logits[t] = logits[t] > 0 ? logits[t] / p.repetitionPenalty : logits[t] * p.repetitionPenalty
            }
        }
        if p.temperature <= 0 {
            return logits.withUnsafeBufferPointer { VectorOps.argmax($0.baseAddress!, $0.count) }
        }
        // Candidates sorted by logit, best first.
        var candidates = Array(logits.indices)
        let k = p.topK > 0 ? min(p.topK, logits.count) : logits.count
        if k < logits.count {
            candidates = Array(candidates.lazy.sorted { logits[$0] > logits[$1] }.prefix(k))
        } else {
            candidates.sort { logits[$0] > logits[$1] }
        }
        // top-p on the softmax of the (untempered) candidates.
        func softmax(_ ids: [Int], temperature: Float) -> [Double] {
            let m = Double(logits[ids[0]])
            let e = ids.map { exp((Double(logits[$0]) - m) / Double(temperature)) }
            let s = e.reduce(0, +)
            return e.map { $0 / s }
        }
        if p.topP < 1 {
            let probs = softmax(candidates, temperature: 1)
            var cum = 0.0
            var keep = candidates.count
            for (i, q) in probs.enumerated() {
                cum += q
                if cum >= Double(p.topP) {
                    keep = i + 1
                    break
                }
            }
            candidates = Array(candidates.prefix(max(1, keep)))
        }
        if p.minP > 0 {
            let top = logits[candidates[0]]
            let threshold = top + log(p.minP)
            candidates = candidates.filter { logits[$0] >= threshold }
        }
        let probs = softmax(candidates, temperature: p.temperature)
        let r = Double(rng.next() >> 11) / Double(1 << 53)
        var cum = 0.0
        for (i, q) in probs.enumerated() {
            cum += q
            if r < cum { return candidates[i] }
        }
        return candidates[candidates.count - 1]
    }
}
