import Foundation
import Stretch

/// Aggregate decode throughput of several sequences decoding together through ``BatchEngine`` (continuous
/// batching: one forward pass per step for every active sequence), like llama-batched-bench's `-npl`.
///
/// For each test (`generatedTokens` per sequence, `sequences` at once, `depth` prompt tokens per sequence)
/// every sequence gets its own random prompt, run once untimed (and kept in its slot's cache). Each
/// repetition then submits all the prompts again with `generatedTokens` to generate (greedy, end of
/// generation ignored): the slots reuse their cached prompts, so the timed part is `generatedTokens`
/// batched steps. A sample is the wall time from the submissions to the last sequence's end; tokens/s
/// is every sequence's generated tokens over it.
public struct ParallelDecodeRun: Sendable {
    /// Tests to run, each with ``BenchmarkTest/sequences`` ≥ 1 and a generation length.
    public let tests: [BenchmarkTest]
    /// Timed repetitions per test.
    public let repetitions: Int
    /// Seed for the random prompts.
    public let seed: UInt64

    /// Creates a run: for every depth, generation length and sequence count.
    public init(generations: [Int], depths: [Int], sequences: [Int], repetitions: Int, seed: UInt64 = 1) throws {
        try BenchmarkRun.check(repetitions: repetitions)
        if let bad = sequences.first(where: { $0 < 1 }) {
            throw EvaluationError.invalidSetting(
                name: "parallel sequences", value: "\(bad)", requirement: "each must be ≥ 1")
        }
        let tests = depths.flatMap { d in
            generations.filter { $0 > 0 }.flatMap { n in
                sequences.map { BenchmarkTest(promptTokens: 0, generatedTokens: n, depth: d, sequences: $0) }
            }
        }
        guard !tests.isEmpty else {
            throw EvaluationError.invalidSetting(
                name: "generation lengths", value: "0", requirement: "give at least one non-zero -n")
        }
        self.tests = tests
        self.repetitions = repetitions
        self.seed = seed
    }

    /// Slots the engine needs: the most sequences of any test.
    public var slots: Int { tests.map { $0.sequences ?? 1 }.max() ?? 1 }

    /// The context each slot needs: its prompt (at least one token) plus what it generates.
    public var contextPerSlot: Int { tests.map { max($0.depth, 1) + $0.generatedTokens }.max() ?? 1 }

    /// Tokens generated per scheme, untimed prompts included (for progress).
    public var tokensPerScheme: Int {
        tests.reduce(0) { $0 + ($1.sequences ?? 1) * max($1.depth, 1) + repetitions * $1.timedTokens }
    }

    /// Runs every test under each of `schemes` (one engine each, `slots` sequences of `contextPerSlot`
    /// tokens), alternating the schemes within every repetition as ``BenchmarkRun`` does. Records come
    /// back scheme by scheme, tests in order; `progress` gets tokens processed so far.
    public func run(
        model: LanguageModel, schemes: [ContextScheme], progress: (@Sendable (Int) -> Void)? = nil
    ) async throws -> [BenchmarkRecord] {
        var rng = SeededGenerator(seed: seed)
        let vocab = model.network.config.vocabularySize
        func randomTokens(_ n: Int) -> [Int] { (0..<n).map { _ in Int(rng.next() % UInt64(vocab)) } }
        let engines = try schemes.map {
            try BatchEngine(model: model, slots: slots, positions: $0.positions, contextSize: contextPerSlot)
        }
        var done = 0
        var records: [[BenchmarkRecord]] = Array(repeating: [], count: schemes.count)
        for test in tests {
            let prompts = (0..<(test.sequences ?? 1)).map { _ in randomTokens(max(test.depth, 1)) }
            for engine in engines {
                _ = try await Self.generate(engine, prompts, tokens: 1)
                done += prompts.reduce(0) { $0 + $1.count }
                progress?(done)
            }
            var samples: [[Double]] = Array(repeating: [], count: schemes.count)
            for _ in 0..<repetitions {
                for (k, engine) in engines.enumerated() {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    let generated = try await Self.generate(engine, prompts, tokens: test.generatedTokens)
                    samples[k].append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
                    // Every sequence has room for all its tokens and ignores end of generation, so none
                    // stops early; a shortfall would make the rate wrong, so it is an error, not a number.
                    guard generated == test.timedTokens else {
                        throw EvaluationError.invalidSetting(
                            name: "parallel decode", value: "\(generated) tokens generated",
                            requirement: "expected \(test.timedTokens) (a sequence stopped early)")
                    }
                    done += generated
                    progress?(done)
                }
            }
            for (k, scheme) in schemes.enumerated() {
                records[k].append(
                    BenchmarkRecord(
                        test: test, scheme: scheme, threads: model.network.threads,
                        batchSize: model.network.batchSize, samples: samples[k]))
            }
        }
        return records.flatMap { $0 }
    }

    /// Submits every prompt at once and waits for all; returns the tokens generated in total.
    private static func generate(_ engine: BatchEngine, _ prompts: [[Int]], tokens: Int) async throws -> Int {
        let parameters = GenerationParameters(maxTokens: tokens, sampling: .greedy, ignoreEndOfGeneration: true)
        let streams = prompts.map { engine.submit(prompt: $0, parameters: parameters) }
        return try await withThrowingTaskGroup(of: Int.self) { group in
            for stream in streams {
                group.addTask {
                    var generated = 0
                    for try await event in stream {
                        if case let .finished(stats) = event { generated = stats.generatedTokens }
                    }
                    return generated
                }
            }
            return try await group.reduce(0, +)
        }
    }
}
