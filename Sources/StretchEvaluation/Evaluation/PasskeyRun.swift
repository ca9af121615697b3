import Foundation
import Stretch

/// A passkey grid: every (length, depth) cell gets ``trials`` prompts with seeded random 5-digit keys,
/// and every scheme sees exactly the same prompts.
public struct PasskeyRun: Sendable {
    /// One prompt of the grid, already tokenized.
    public struct Case: Sendable {
        /// Requested length in tokens.
        public let length: Int
        /// Key depth (0…1).
        public let depth: Double
        /// Trial index within the cell.
        public let trial: Int
        /// The prompt.
        public let prompt: PasskeyPrompt
        /// Its token ids (with BOS when the model adds one).
        public let tokens: [Int]
    }

    /// Prompt lengths in tokens.
    public let lengths: [Int]
    /// Key depths in 0…1.
    public let depths: [Double]
    /// Prompts per cell.
    public let trials: Int
    /// Seed of the key generator.
    public let seed: UInt64
    /// Greedy tokens allowed for the answer.
    public let maxNewTokens: Int
    /// Every prompt, ordered by length, depth, trial.
    public let cases: [Case]

    /// The keys a seed produces, in order: uniform 5-digit numbers (10000…99999).
    public static func keys(seed: UInt64, count: Int) -> [Int] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { _ in 10000 + Int(rng.next() % 90000) }
    }

    /// Builds and tokenizes every prompt of the grid.
    public init(
        lengths: [Int], depths: [Double], trials: Int, seed: UInt64, tokenizer: Tokenizer, maxNewTokens: Int = 10
    ) throws {
        guard !lengths.isEmpty, !depths.isEmpty else {
            throw EvaluationError.invalidSetting(
                name: "lengths/depths", value: "", requirement: "give at least one of each")
        }
        guard trials >= 1 else {
            throw EvaluationError.invalidSetting(name: "trials", value: "\(trials)", requirement: "must be ≥ 1")
        }
        self.lengths = lengths
        self.depths = depths
        self.trials = trials
        self.seed = seed
        self.maxNewTokens = maxNewTokens
        let keys = Self.keys(seed: seed, count: lengths.count * depths.count * trials)
        var cases: [Case] = []
        var k = 0
        for length in lengths {
            for depth in depths {
                for t in 0..<trials {
                    let prompt = try PasskeyPrompt.fitting(length: length, depth: depth, key: keys[k]) {
                        tokenizer.encode($0, addSpecial: true).count
                    }
                    cases.append(
                        Case(
                            length: length, depth: depth, trial: t, prompt: prompt,
                            tokens: tokenizer.encode(prompt.text, addSpecial: true)))
                    k += 1
                }
            }
        }
        self.cases = cases
    }

    /// Prompt tokens each scheme processes (for progress).
    public var tokensPerScheme: Int { cases.reduce(0) { $0 + $1.tokens.count } }

    /// The largest sequence a trial needs: longest prompt plus the answer.
    public var maxSequence: Int { (cases.map(\.tokens.count).max() ?? 0) + maxNewTokens }

    /// Runs every case with `scheme`; `progress` gets prompt tokens processed so far.
    public func run(
        model: LlamaModel, tokenizer: Tokenizer, scheme: ContextScheme, progress: ((Int) -> Void)? = nil
    ) throws -> PasskeyResult {
        let start = Date()
        var trialsOut: [PasskeyTrial] = []
        var done = 0
        for c in cases {
            trialsOut.append(
                try PasskeyTrial.run(
                    model: model, tokenizer: tokenizer, positions: scheme.positions, promptTokens: c.tokens,
                    length: c.length, depth: c.depth, key: c.prompt.key, maxNewTokens: maxNewTokens))
            done += c.tokens.count
            progress?(done)
        }
        return PasskeyResult(
            scheme: scheme, lengths: lengths, depths: depths, trials: trialsOut,
            seconds: Date().timeIntervalSince(start))
    }
}
