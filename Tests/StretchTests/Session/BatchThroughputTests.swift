import Foundation
import Stretch
import XCTest

/// Aggregate decode throughput of `BatchEngine` against independent `Session`s on Qwen (docs/DESIGN.md,
/// "Continuous batching"). A measurement, not a check: it runs only with `STRETCH_BATCH_BENCH=1` and prints.
final class BatchThroughputTests: XCTestCase {
    func testAggregateDecodeThroughput() async throws {
        // Not a skip: under CI no test may skip, and this one has nothing to check.
        guard ProcessInfo.processInfo.environment["STRETCH_BATCH_BENCH"] == "1" else {
            print("BatchThroughputTests: set STRETCH_BATCH_BENCH=1 to measure")
            return
        }
        let model = try LanguageModel(path: TestFiles.qwen, options: LoadOptions())
        let texts = ["def fib(n):", "The capital of France is", "import numpy as np\n", "Once upon a time",
                     "SELECT * FROM", "fn main() {", "#include <stdio.h>\n", "Dear Sir,"]
        let prompts = texts.map { model.tokenizer.encode($0, addSpecial: true) }
        let tokens = Int(ProcessInfo.processInfo.environment["STRETCH_BATCH_TOKENS"] ?? "") ?? 64
        let parameters = GenerationParameters(maxTokens: tokens, sampling: .greedy, ignoreEndOfGeneration: true)
        let streamCounts = (ProcessInfo.processInfo.environment["STRETCH_BATCH_STREAMS"] ?? "1,2,4")
            .split(separator: ",").compactMap { Int($0) }
        let engine = try BatchEngine(model: model, slots: streamCounts.max()!, contextSize: 512)
        let sessions = try (0..<streamCounts.max()!).map { _ in try Session(model: model, contextSize: 512) }

        /// Generated tokens per second from the first token's start to the last stream's end: the prompt
        /// of each stream is first run (and cached) by a warm-up, so only decode remains.
        func measure(_ streams: [AsyncThrowingStream<GenerationEvent, Error>]) async throws -> Double {
            let start = DispatchTime.now()
            let produced = try await withThrowingTaskGroup(of: Int.self) { group in
                for s in streams { group.addTask { try await GreedyGenerationTests.collect(s).stats.generatedTokens } }
                return try await group.reduce(0, +)
            }
            return Double(produced) / (Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9)
        }
        // STRETCH_BATCH_SIDE=engine or sessions measures one side only (for profiling).
        let side = ProcessInfo.processInfo.environment["STRETCH_BATCH_SIDE"] ?? "both"
        for n in streamCounts {
            var best = (engine: 0.0, sessions: 0.0)
            for _ in 0..<3 {
                // Same prompts again each round: every slot/session reuses its cached prompt minus the last token.
                let e = side == "sessions" ? 0 : try await measure((0..<n).map {
                    engine.submit(prompt: prompts[$0], parameters: parameters)
                })
                let s = side == "engine" ? 0 : try await measure((0..<n).map {
                    sessions[$0].generate(prompt: prompts[$0], parameters: parameters)
                })
                best = (max(best.engine, e), max(best.sessions, s))
            }
            print(String(format: "BATCH streams=%d tokens=%d engine %.2f tok/s, sessions %.2f tok/s", n, tokens, best.engine, best.sessions))
        }
    }
}
