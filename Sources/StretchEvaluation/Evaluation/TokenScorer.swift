import Stretch

/// Per-token negative log-likelihoods of a token sequence under a model.
public enum TokenScorer {
    /// `nll[i] = −log p(tokens[i+1] | tokens[0...i])` for `i < tokens.count − 1`, in one sequence.
    ///
    /// Processes the tokens in chunks of the model's batch size so only one chunk of logits is held.
    /// - Parameter progress: called with the number of tokens processed so far.
    public static func score(
        model: LlamaModel, tokens: [Int], positions: PositionMap = PlainPositions(),
        progress: ((Int) -> Void)? = nil
    ) throws -> [Double] {
        guard tokens.count >= 2 else { return [] }
        let cache = try model.makeCache(maxTokens: tokens.count, positions: positions)
        let vocab = model.config.vocabularySize
        var nll: [Double] = []
        nll.reserveCapacity(tokens.count - 1)
        var done = 0
        let step = model.batchSize
        while done < tokens.count - 1 {
            let n = min(step, tokens.count - 1 - done)
            let logits = try model.forward(Array(tokens[done..<(done + n)]), cache: cache, logits: .all)
            logits.withUnsafeBufferPointer { buf in
                for t in 0..<n {
                    let row = buf.baseAddress! + t * vocab
                    let target = tokens[done + t + 1]
                    nll.append(VectorOps.logSumExp(row, vocab) - Double(row[target]))
                }
            }
            done += n
            progress?(done)
        }
        return nll
    }
}
