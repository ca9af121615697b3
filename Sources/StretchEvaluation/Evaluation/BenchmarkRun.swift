import Foundation
import Stretch

/// Runs llama-bench-style throughput tests: random tokens (no tokenizer), no sampling inside the timings.
///
/// For each depth and scheme the `depth` tokens are processed once, untimed, and shared by every test at
/// that depth (as llama-bench does: at 32k tokens one fill is minutes on a laptop CPU); every repetition
/// then truncates the cache back to `depth` and times either one batched pass over `promptTokens` tokens
/// (pp) or `generatedTokens` single-token passes fed with pre-drawn random tokens (tg).
public struct BenchmarkRun: Sendable {
    /// Tests to run.
    public let tests: [BenchmarkTest]
    /// Timed repetitions per test.
    public let repetitions: Int
    /// Seed for the random token ids.
    public let seed: UInt64

    /// Creates a run; `repetitions` must be ≥ 1.
    public init(tests: [BenchmarkTest], repetitions: Int, seed: UInt64 = 1) throws {
        try Self.check(repetitions: repetitions)
        guard !tests.isEmpty else {
            throw EvaluationError.invalidSetting(
                name: "prompt/generation lengths", value: "0", requirement: "give at least one non-zero length")
        }
        self.tests = tests
        self.repetitions = repetitions
        self.seed = seed
    }

    /// Every benchmark run repeats its tests at least once.
    static func check(repetitions: Int) throws {
        guard repetitions >= 1 else {
            throw EvaluationError.invalidSetting(name: "repetitions", value: "\(repetitions)", requirement: "must be ≥ 1")
        }
    }

    /// Tokens processed per scheme, depth prefills included (for progress).
    public var tokensPerScheme: Int {
        depthGroups.reduce(0) { sum, group in
            sum + group.depth + group.tests.reduce(0) { $0 + repetitions * $1.timedTokens }
        }
    }

    /// Consecutive tests that share a depth share one fill of it.
    var depthGroups: [(depth: Int, tests: [BenchmarkTest])] {
        var groups: [(depth: Int, tests: [BenchmarkTest])] = []
        for test in tests {
            if let last = groups.last, last.depth == test.depth {
                groups[groups.count - 1].tests.append(test)
            } else {
                groups.append((test.depth, [test]))
            }
        }
        return groups
    }

    /// The largest cache any test needs.
    public var maxSequence: Int { tests.map { $0.depth + $0.timedTokens }.max() ?? 0 }

    /// Runs every test under `scheme`; `progress` gets tokens processed so far.
    public func run(model: LlamaModel, scheme: ContextScheme, progress: ((Int) -> Void)? = nil) throws
        -> [BenchmarkRecord]
    {
        try run(model: model, schemes: [scheme], progress: progress)
    }

    /// Runs every test under each of `schemes`, alternating the schemes within every repetition (test 1:
    /// rep 1 scheme A, rep 1 scheme B, rep 2 scheme A, …), so load from other processes hits all schemes
    /// alike and their ratio is meaningful on a shared machine. Every scheme sees the same random tokens.
    /// Records come back scheme by scheme, tests in order; `progress` gets tokens processed so far.
    public func run(model: LlamaModel, schemes: [ContextScheme], progress: ((Int) -> Void)? = nil) throws
        -> [BenchmarkRecord]
    {
        var rng = SeededGenerator(seed: seed)
        let vocab = model.config.vocabularySize
        func randomTokens(_ n: Int) -> [Int] { (0..<n).map { _ in Int(rng.next() % UInt64(vocab)) } }
        // Warm-up: touch the weights once so the first timed run does not pay for page faults.
        for scheme in schemes {
            let warm = try model.makeCache(maxTokens: 8, positions: scheme.positions)
            _ = try model.forward(randomTokens(8), cache: warm, logits: .last)
        }

        var done = 0
        var records: [[BenchmarkRecord]] = Array(repeating: [], count: schemes.count)
        for group in depthGroups {
            let depth = group.depth
            let capacity = depth + (group.tests.map(\.timedTokens).max() ?? 0)
            let depthTokens = randomTokens(depth)
            var caches: [KVCache] = []
            for scheme in schemes {
                let cache = try model.makeCache(maxTokens: capacity, positions: scheme.positions)
                // The whole KV capacity up front (llama.cpp allocates it at context creation), so no
                // timed pass pays for growing the cache.
                cache.reserve(capacity)
                if depth > 0 {
                    _ = try model.forward(depthTokens, cache: cache, logits: .last)
                    done += depth
                    progress?(done)
                }
                caches.append(cache)
            }
            for test in group.tests {
                for cache in caches {
                    // Back to the shared fill (the previous test left its tokens there), then one untimed
                    // pass of the test's own shape (at most 512 tokens), as llama-bench warms up each test:
                    // first-touch page faults and buffer allocation stay out of the samples. Every timed
                    // repetition truncates to the fill again before it starts.
                    cache.truncate(to: depth)
                    let warmTokens = test.promptTokens > 0 ? min(test.promptTokens, 512) : 1
                    _ = try model.forward(randomTokens(warmTokens), cache: cache, logits: .last)
                }
                var samples: [[Double]] = Array(repeating: [], count: schemes.count)
                for _ in 0..<repetitions {
                    let input = randomTokens(test.timedTokens)
                    for k in schemes.indices {
                        let cache = caches[k]
                        cache.truncate(to: depth)
                        let t0 = DispatchTime.now().uptimeNanoseconds
                        if test.promptTokens > 0 {
                            _ = try model.forward(input, cache: cache, logits: .last)
                        } else {
                            for t in input {
                                _ = try model.forward([t], cache: cache, logits: .last)
                            }
                        }
                        samples[k].append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
                        done += test.timedTokens
                        progress?(done)
                    }
                }
                for (k, scheme) in schemes.enumerated() {
                    records[k].append(
                        BenchmarkRecord(
                            test: test, scheme: scheme, threads: model.threads, batchSize: model.batchSize,
                            samples: samples[k]))
                }
            }
        }
        return records.flatMap { $0 }
    }
}
