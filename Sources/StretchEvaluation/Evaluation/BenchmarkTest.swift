import Stretch

/// One llama-bench test: process `promptTokens` (pp) or generate `generatedTokens` (tg) after `depth` tokens.
public struct BenchmarkTest: Sendable, Equatable {
    /// Tokens processed in one batch (`n_prompt`); 0 for a generation test.
    public let promptTokens: Int
    /// Tokens decoded one at a time (`n_gen`); 0 for a prompt test.
    public let generatedTokens: Int
    /// Tokens already in the cache before timing starts (`n_depth`).
    public let depth: Int

    /// Creates a test.
    public init(promptTokens: Int, generatedTokens: Int, depth: Int = 0) {
        self.promptTokens = promptTokens
        self.generatedTokens = generatedTokens
        self.depth = depth
    }

    /// llama-bench's name: `pp512`, `tg128`, `pp512 @ d4096`.
    public var name: String {
        let base = promptTokens > 0 ? "pp\(promptTokens)" : "tg\(generatedTokens)"
        return depth > 0 ? "\(base) @ d\(depth)" : base
    }

    /// Tokens the timed part processes.
    public var timedTokens: Int { promptTokens + generatedTokens }

    /// The tests llama-bench runs for these lists: for each depth, each `pp` size then each `tg` size (zeros skipped).
    public static func grid(prompts: [Int], generations: [Int], depths: [Int]) -> [BenchmarkTest] {
        depths.flatMap { d in
            prompts.filter { $0 > 0 }.map { BenchmarkTest(promptTokens: $0, generatedTokens: 0, depth: d) }
                + generations.filter { $0 > 0 }.map { BenchmarkTest(promptTokens: 0, generatedTokens: $0, depth: d) }
        }
    }
}
