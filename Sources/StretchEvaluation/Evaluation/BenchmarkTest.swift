import Stretch

/// One llama-bench test: process `promptTokens` (pp) or generate `generatedTokens` (tg) after `depth` tokens.
public struct BenchmarkTest: Sendable, Equatable {
    /// Tokens processed in one batch (`n_prompt`); 0 for a generation test.
    public let promptTokens: Int
    /// Tokens decoded one at a time (`n_gen`); 0 for a prompt test.
    public let generatedTokens: Int
    /// Tokens already in the cache before timing starts (`n_depth`); per sequence in a parallel test.
    public let depth: Int
    /// Sequences decoding together through the batch engine (``ParallelDecodeRun``); nil for a
    /// llama-bench test on one sequence.
    public let sequences: Int?

    /// Creates a test.
    public init(promptTokens: Int, generatedTokens: Int, depth: Int = 0, sequences: Int? = nil) {
        self.promptTokens = promptTokens
        self.generatedTokens = generatedTokens
        self.depth = depth
        self.sequences = sequences
    }

    /// llama-bench's name: `pp512`, `tg128`, `pp512 @ d4096`; a parallel test adds its sequence count,
    /// `tg64 x4`.
    public var name: String {
        var name = promptTokens > 0 ? "pp\(promptTokens)" : "tg\(generatedTokens)"
        if let sequences { name += " x\(sequences)" }
        return depth > 0 ? "\(name) @ d\(depth)" : name
    }

    /// Tokens the timed part processes, over all its sequences.
    public var timedTokens: Int { (sequences ?? 1) * (promptTokens + generatedTokens) }

    /// The tests llama-bench runs for these lists: for each depth, each `pp` size then each `tg` size (zeros skipped).
    public static func grid(prompts: [Int], generations: [Int], depths: [Int]) -> [BenchmarkTest] {
        depths.flatMap { d in
            prompts.filter { $0 > 0 }.map { BenchmarkTest(promptTokens: $0, generatedTokens: 0, depth: d) }
                + generations.filter { $0 > 0 }.map { BenchmarkTest(promptTokens: 0, generatedTokens: $0, depth: d) }
        }
    }
}
