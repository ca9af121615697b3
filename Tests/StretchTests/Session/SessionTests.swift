import Foundation
import Stretch
import XCTest

/// A session's own behaviour: cancellation, prefix reuse, errors, and sessions side by side on one model.
final class SessionTests: XCTestCase {
    private func stories(_ options: LoadOptions = LoadOptions(threads: 2)) throws -> (LanguageModel, [Int]) {
        let model = try LanguageModel(path: TestFiles.stories260K, options: options)
        let text = try String(contentsOfFile: TestFiles.shared("data/text/tinystories_validation_head.txt"), encoding: .utf8)
        return (model, model.tokenizer.encode(text, addSpecial: true))
    }

    /// Cancelling the consuming task stops decoding within one token; the session then still generates
    /// exactly what a fresh session generates.
    func testCancellationStopsWithinOneTokenAndSessionContinues() async throws {
        let (model, text) = try stories()
        let prompt = Array(text.prefix(40))
        // Self-Extend gives room for ~4k tokens, far more than are produced before the cancellation lands.
        let session = try Session(model: model, contextExtension: "self-extend:G=8:W=128", contextSize: 3000)
        let (reached, stopped) = (Counter(), Counter())
        let task = Task {
            var n = 0
            for try await event in session.generate(prompt: prompt, parameters: GenerationParameters(sampling: .greedy)) {
                guard case .token = event else { continue }
                n += 1
                if n == 5 {
                    // What the engine had produced at the moment of cancelling (it runs ahead of the consumer).
                    reached.set(session.tokens.count)
                    withUnsafeCurrentTask { $0?.cancel() }
                }
            }
            stopped.set(n)
        }
        _ = await task.result
        await session.waitUntilIdle()
        // Cancellation stops within one token: the history grew at most one token past what the engine
        // held when the consumer cancelled.
        XCTAssertGreaterThanOrEqual(reached.value, prompt.count + 5)
        XCTAssertLessThanOrEqual(session.tokens.count, reached.value + 1)
        XCTAssertLessThan(session.tokens.count, 3000, "the generation ended before the cancellation could be tested")
        XCTAssertGreaterThanOrEqual(stopped.value, 5)
        // The session goes on: the prompt's cache survived, and greedy output equals a fresh session's.
        let again = try await GreedyGenerationTests.collect(session.generate(
            prompt: prompt, parameters: GenerationParameters(maxTokens: 20, sampling: .greedy)))
        XCTAssertEqual(again.stats.cachedPromptTokens, prompt.count - 1)
        let fresh = try Session(model: model, contextExtension: "self-extend:G=8:W=128", contextSize: 3000)
        let expected = try await GreedyGenerationTests.collect(fresh.generate(
            prompt: prompt, parameters: GenerationParameters(maxTokens: 20, sampling: .greedy)))
        XCTAssertEqual(again.ids, expected.ids)
    }

    /// A prompt that extends (or shares a prefix with) the history prefills only the new tokens and gives
    /// the logits of a fresh prefill (float32 precision), with plain attention and with Self-Extend.
    func testPrefixReuseEqualsFreshPrefillAndPrefillsOnlyNewTokens() async throws {
        let (model, text) = try stories(LoadOptions(threads: 2, batchSize: 64, precision: .f32))
        // DCA at 1,024 tokens also carries its temperature (mscale(1024/512)²), fixed by the context size.
        for spec in ["none", "self-extend:G=4:W=100", "dca:C=96:L=16", "string:S=100:W=16"] {
            let session = try Session(model: model, contextExtension: spec, contextSize: 1024)
            let first = Array(text.prefix(300))
            let (_, r0) = try await session.prefill(first)
            XCTAssertEqual(r0, 0)
            // Extends the history: only the 250 new tokens run.
            let longer = Array(text.prefix(550))
            let (reusedLogits, r1) = try await session.prefill(longer)
            XCTAssertEqual(r1, 300, spec)
            let fresh = try Session(model: model, contextExtension: spec, contextSize: 1024)
            let (freshLogits, _) = try await fresh.prefill(longer)
            assertClose(reusedLogits, freshLogits, spec)
            // Diverges after 200 tokens: the cache is cut back to 200 and the rest runs again. Self-Extend keeps
            // near keys in a ring of 99 + 64 → 192 slots, holding tokens 358..<550 only: it recomputes all.
            var branch = Array(text.prefix(200))
            branch += text[400..<520]
            let (branchLogits, r2) = try await session.prefill(branch)
            XCTAssertEqual(r2, spec.hasPrefix("self-extend") ? 0 : 200, spec)
            let (freshBranch, _) = try await Session(model: model, contextExtension: spec, contextSize: 1024).prefill(branch)
            assertClose(branchLogits, freshBranch, spec)
            // The same prompt again: nothing runs, the logits are kept.
            let (same, r3) = try await session.prefill(branch)
            XCTAssertEqual(r3, branch.count, spec)
            XCTAssertEqual(same, branchLogits, spec)
        }
    }

    private func assertClose(_ a: [Float], _ b: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        let worst = zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
        let scale = b.map(abs).max() ?? 1
        XCTAssertLessThanOrEqual(worst, 1e-5 * max(1, scale), "\(what): max |Δlogit| \(worst)", file: file, line: line)
    }

    /// Two sessions on one model (plain and Self-Extend), driven from two tasks at once, give exactly
    /// what each gives alone: the same logits after the prompt and the same greedy tokens.
    func testConcurrentSessionsEqualSingleSessions() async throws {
        let (model, text) = try stories()
        // Past the trained 512 tokens, where the two schemes differ; small enough for the thread sanitizer.
        let prompt = Array(text.prefix(560))
        let specs = ["none", "self-extend:G=4:W=128"]
        let parameters = GenerationParameters(maxTokens: 24, sampling: .greedy)
        @Sendable func run(_ spec: String) async throws -> ([Float], [Int]) {
            let session = try Session(model: model, contextExtension: spec, contextSize: 1024)
            let (logits, _) = try await session.prefill(prompt)
            let out = try await GreedyGenerationTests.collect(session.generate(prompt: prompt, parameters: parameters))
            return (logits, out.ids)
        }
        var alone: [([Float], [Int])] = []
        for spec in specs { alone.append(try await run(spec)) }
        for _ in 0..<2 {
            async let a = run(specs[0])
            async let b = run(specs[1])
            let (ra, rb) = try await (a, b)
            XCTAssertEqual(ra.0, alone[0].0, "plain logits differ when run beside another session")
            XCTAssertEqual(ra.1, alone[0].1)
            XCTAssertEqual(rb.0, alone[1].0, "Self-Extend logits differ when run beside another session")
            XCTAssertEqual(rb.1, alone[1].1)
        }
        XCTAssertNotEqual(alone[0].1, alone[1].1, "the two schemes should differ past the trained context")
    }

    /// Errors arrive through the stream before any token, in the library's terms.
    func testErrorsEndTheStreamBeforeAnyToken() async throws {
        let (model, text) = try stories()
        let session = try Session(model: model, contextSize: 100)
        do {
            _ = try await GreedyGenerationTests.collect(session.generate(prompt: Array(text.prefix(150))))
            XCTFail("a 150-token prompt fit a 100-token context")
        } catch let error as ModelError {
            guard case let .contextExceeded(tokens, limit, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(tokens, 150)
            XCTAssertEqual(limit, 100)
        }
        do {
            _ = try await GreedyGenerationTests.collect(session.generate(prompt: []))
            XCTFail("an empty prompt was accepted")
        } catch let error as GenerationError {
            XCTAssertEqual(error, .emptyPrompt)
        }
        // The session is still usable after the errors.
        let out = try await GreedyGenerationTests.collect(session.generate(
            prompt: Array(text.prefix(10)), parameters: GenerationParameters(maxTokens: 5, sampling: .greedy)))
        XCTAssertEqual(out.stats.generatedTokens, 5)
        // A cache is made for one map and checked against the model: W ≥ L is refused.
        XCTAssertThrowsError(try Session(model: model, contextExtension: "self-extend:G=4:W=600"))
    }
}

/// A value shared between a test and the task it starts.
final class Counter: @unchecked Sendable {
    // @unchecked Sendable: the value is only read and written under `lock`.
    private let lock = NSLock()
    private var stored = 0
    var value: Int { lock.withLock { stored } }
    func set(_ v: Int) { lock.withLock { stored = v } }
}
