import Foundation
import Stretch
import XCTest

/// `BatchEngine`: concurrent greedy requests equal sessions run alone, prefix reuse, cancellation, queueing.
final class BatchEngineTests: XCTestCase {
    private typealias Output = (ids: [Int], text: String, stats: GenerationStatistics)

    private func stories(_ options: LoadOptions = LoadOptions(threads: 2, batchSize: 128)) throws -> (LanguageModel, [Int]) {
        let model = try LanguageModel(path: TestFiles.stories260K, options: options)
        let text = try String(contentsOfFile: TestFiles.shared("data/text/tinystories_validation_head.txt"), encoding: .utf8)
        return (model, model.tokenizer.encode(text, addSpecial: true))
    }

    private func greedy(_ maxTokens: Int) -> GenerationParameters {
        GenerationParameters(maxTokens: maxTokens, sampling: .greedy)
    }

    /// What a fresh session produces for each prompt.
    private func alone(_ model: LanguageModel, _ spec: String, _ prompts: [[Int]], maxTokens: Int) async throws -> [Output] {
        var out: [Output] = []
        for p in prompts {
            let session = try Session(model: model, contextExtension: spec)
            out.append(try await GreedyGenerationTests.collect(session.generate(prompt: p, parameters: greedy(maxTokens))))
        }
        return out
    }

    /// Submits the prompts (each after the previous one produced `staggerTokens` tokens, or all at once)
    /// and collects every stream concurrently.
    private func run(_ engine: BatchEngine, _ prompts: [[Int]], maxTokens: Int, staggerTokens: Int = 0) async throws -> [Output] {
        try await withThrowingTaskGroup(of: (Int, Output).self) { group in
            for (i, p) in prompts.enumerated() {
                let stream = engine.submit(prompt: p, parameters: greedy(maxTokens))
                if staggerTokens > 0 && i + 1 < prompts.count {
                    // Consume the first tokens here, so the next request arrives mid-generation.
                    var iterator = stream.makeAsyncIterator()
                    var first: [GenerationEvent] = []
                    while first.count < staggerTokens, let e = try await iterator.next() {
                        first.append(e)
                        if case .finished = e { break }
                    }
                    let head = first
                    nonisolated(unsafe) var rest = iterator
                    group.addTask {
                        var ids: [Int] = [], text = "", stats: GenerationStatistics?
                        var events = head
                        while let e = try await rest.next() { events.append(e) }
                        for e in events {
                            switch e {
                            case let .token(id, piece): ids.append(id); text += piece
                            case let .text(piece): text += piece
                            case let .finished(s): stats = s
                            case .logprobs, .assigned: break
                            }
                        }
                        return (i, (ids, text, try XCTUnwrap(stats)))
                    }
                } else {
                    group.addTask { (i, try await GreedyGenerationTests.collect(stream)) }
                }
            }
            var results = [Output?](repeating: nil, count: prompts.count)
            for try await (i, o) in group { results[i] = o }
            return results.map { $0! }
        }
    }

    func testConcurrentGreedyRequestsEqualSessionsAlone() async throws {
        let (model, text) = try stories()
        let prompts = [Array(text[0..<30]), Array(text[40..<45]), Array(text[0..<12]), Array(text[100..<160])]
        for spec in ["none", "self-extend:G=4:W=32", "dca:C=24:L=4"] {
            let expected = try await alone(model, spec, prompts, maxTokens: 40)
            let engine = try BatchEngine(model: model, slots: 4, contextExtension: spec)
            for stagger in [0, 3] {
                let got = try await run(engine, stagger == 0 ? prompts : prompts.reversed(), maxTokens: 40, staggerTokens: stagger)
                let ordered = stagger == 0 ? got : got.reversed()
                for (g, e) in zip(ordered, expected) {
                    XCTAssertEqual(g.ids, e.ids, "\(spec), stagger \(stagger)")
                    XCTAssertEqual(g.text, e.text, "\(spec), stagger \(stagger)")
                    XCTAssertEqual(g.stats.generatedTokens, e.stats.generatedTokens)
                    XCTAssertEqual(g.stats.stopReason, e.stats.stopReason)
                }
            }
        }
    }

    func testQwenConcurrentGreedyRequestsEqualSessionsAlone() async throws {
        let model = try LanguageModel(path: TestFiles.qwen, options: LoadOptions(threads: 2, batchSize: 64))
        let prompts = ["def fib(n):", "The capital of France is", "import numpy as np\n"].map {
            model.tokenizer.encode($0, addSpecial: true)
        }
        let expected = try await alone(model, "none", prompts, maxTokens: 12)
        let engine = try BatchEngine(model: model, slots: 3, contextSize: 512)
        let got = try await run(engine, prompts, maxTokens: 12, staggerTokens: 2)
        for (g, e) in zip(got, expected) { XCTAssertEqual(g.ids, e.ids, e.text) }
    }

    /// A request goes to the slot holding its prefix and prefills only the rest.
    func testPrefixReuseTakesTheSlotWithTheLongestCommonPrefix() async throws {
        let (model, text) = try stories()
        let engine = try BatchEngine(model: model, slots: 2)
        let a = Array(text[0..<40]), b = Array(text[200..<230])
        _ = try await run(engine, [a, b], maxTokens: 5)
        let extended = a + text[300..<310]
        let expected = try await alone(model, "none", [extended, b], maxTokens: 8)
        let got = try await run(engine, [extended], maxTokens: 8)
        XCTAssertEqual(got[0].stats.cachedPromptTokens, 40)
        XCTAssertEqual(got[0].ids, expected[0].ids)
        let again = try await run(engine, [b], maxTokens: 8)
        XCTAssertEqual(again[0].stats.cachedPromptTokens, b.count - 1)
        XCTAssertEqual(again[0].ids, expected[1].ids)
        let snapshot = engine.snapshot
        XCTAssertEqual(snapshot.waitingRequests, 0)
        XCTAssertEqual(snapshot.slots.map(\.phase), [.idle, .idle])
        XCTAssertTrue(snapshot.slots.allSatisfy { $0.cachedTokens > 0 })
    }

    /// A cancelled consumer frees its slot: the request queued behind it (one slot) is served.
    func testCancellationFreesTheSlotForTheNextRequest() async throws {
        let (model, text) = try stories()
        let engine = try BatchEngine(model: model, slots: 1)
        let long = GenerationParameters(maxTokens: 400, sampling: .greedy, ignoreEndOfGeneration: true)
        let first = engine.submit(prompt: Array(text[0..<20]), parameters: long)
        let prompt = Array(text[50..<70])
        let second = engine.submit(prompt: prompt, parameters: greedy(10))
        let task = Task {
            var n = 0
            for try await event in first {
                guard case .token = event else { continue }
                n += 1
                if n == 3 { withUnsafeCurrentTask { $0?.cancel() } }
            }
            return n
        }
        let consumed = try await task.value
        XCTAssertLessThan(consumed, 400)
        let got = try await GreedyGenerationTests.collect(second)
        let expected = try await alone(model, "none", [prompt], maxTokens: 10)
        XCTAssertEqual(got.ids, expected[0].ids)
        XCTAssertEqual(got.stats.generatedTokens, 10)
    }

    /// Twice as many requests as slots: the rest wait in order and every one completes as alone.
    func testMoreRequestsThanSlotsQueueAndComplete() async throws {
        let (model, text) = try stories()
        let engine = try BatchEngine(model: model, slots: 2)
        let prompts = (0..<5).map { Array(text[($0 * 37)..<($0 * 37 + 8 + 3 * $0)]) }
        let expected = try await alone(model, "none", prompts, maxTokens: 16)
        let got = try await run(engine, prompts, maxTokens: 16)
        for (g, e) in zip(got, expected) { XCTAssertEqual(g.ids, e.ids) }
        XCTAssertEqual(engine.snapshot.waitingRequests, 0)
    }

    func testErrorsEndTheStreamAtSubmission() async throws {
        let (model, _) = try stories()
        let engine = try BatchEngine(model: model, slots: 1, contextSize: 64)
        do {
            _ = try await GreedyGenerationTests.collect(engine.submit(prompt: [], parameters: greedy(4)))
            XCTFail("an empty prompt must fail")
        } catch let error as GenerationError {
            XCTAssertEqual(error, .emptyPrompt)
        }
        do {
            _ = try await GreedyGenerationTests.collect(engine.submit(prompt: Array(repeating: 1, count: 65), parameters: greedy(4)))
            XCTFail("a prompt beyond the context must fail")
        } catch let error as ModelError {
            guard case .contextExceeded = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try BatchEngine(model: model, slots: 0))
    }

    /// A request naming its own context extension gets a slot cache of that map; its tokens equal a
    /// session's with the same map, next to a plain request in the same steps.
    func testPerRequestContextExtensionMatchesSession() async throws {
        let (model, text) = try stories()
        let engine = try BatchEngine(model: model, slots: 2)
        let spec = "self-extend:G=4:W=128"
        let long = Array(text.prefix(700))
        XCTAssertGreaterThan(long.count, model.trainedContext)
        let short = Array(text.prefix(20))
        let twelve = greedy(12)
        let extendedStream = engine.submit(prompt: long, parameters: twelve, contextExtension: spec)
        let plainStream = engine.submit(prompt: short, parameters: twelve)
        async let extended = GreedyGenerationTests.collect(extendedStream)
        async let plain = GreedyGenerationTests.collect(plainStream)
        let (e, p) = try await (extended, plain)
        let expectedExtended = try await alone(model, spec, [long], maxTokens: 12)[0]
        let expectedPlain = try await alone(model, "none", [short], maxTokens: 12)[0]
        XCTAssertEqual(e.ids, expectedExtended.ids)
        XCTAssertEqual(p.ids, expectedPlain.ids)
        let specs = Set(engine.snapshot.slots.map(\.contextExtension))
        XCTAssertEqual(specs, ["self-extend:G=4:W=128", "none"])
        // Without the extension the long prompt is refused at submission, naming both numbers.
        do {
            _ = try await GreedyGenerationTests.collect(engine.submit(prompt: long, parameters: greedy(4)))
            XCTFail("a prompt past the plain context must fail")
        } catch let error as ModelError {
            XCTAssertTrue("\(error)".contains("\(long.count)") && "\(error)".contains("512"), "\(error)")
        }
    }

    /// A request naming DCA past the trained window gets a slot of the engine's context size with that map
    /// (and its temperature) and the tokens of a session with the same map and size.
    func testPerRequestDualChunkPastTheWindowMatchesSession() async throws {
        let (model, text) = try stories()
        let engine = try BatchEngine(model: model, slots: 2, contextSize: 1024)
        let spec = "dca:C=384:L=64"
        let long = Array(text.prefix(700))
        let got = try await GreedyGenerationTests.collect(engine.submit(prompt: long, parameters: greedy(12), contextExtension: spec))
        let session = try Session(model: model, contextExtension: spec, contextSize: 1024)
        let expected = try await GreedyGenerationTests.collect(session.generate(prompt: long, parameters: greedy(12)))
        XCTAssertEqual(got.ids, expected.ids)
        XCTAssertTrue(engine.snapshot.slots.map(\.contextExtension).contains(spec))
    }

    /// `reusePrefix: false` runs the whole prompt again (nothing cached) and gives the same tokens.
    func testReusePrefixCanBeTurnedOff() async throws {
        let (model, text) = try stories()
        let engine = try BatchEngine(model: model, slots: 1)
        let prompt = Array(text.prefix(40))
        let first = try await GreedyGenerationTests.collect(engine.submit(prompt: prompt, parameters: greedy(6)))
        let reused = try await GreedyGenerationTests.collect(engine.submit(prompt: prompt, parameters: greedy(6)))
        let fresh = try await GreedyGenerationTests.collect(
            engine.submit(prompt: prompt, parameters: greedy(6), reusePrefix: false))
        XCTAssertEqual(reused.stats.cachedPromptTokens, prompt.count - 1, "the last prompt token runs again for its logits")
        XCTAssertEqual(fresh.stats.cachedPromptTokens, 0)
        XCTAssertEqual(first.ids, reused.ids)
        XCTAssertEqual(first.ids, fresh.ids)
        XCTAssertEqual(fresh.stats.slot, 0)
    }

    /// With every slot busy and `maxWaiting` requests waiting, one more is refused at submission.
    func testFullQueueRefusesAtSubmission() async throws {
        let (model, text) = try stories()
        let engine = try BatchEngine(model: model, slots: 1, maxWaiting: 1)
        let running = engine.submit(prompt: Array(text.prefix(10)), parameters: greedy(400))
        var iterator = running.makeAsyncIterator()
        var assigned: Int?
        while let event = try await iterator.next() {
            if case .assigned(let slot) = event { assigned = slot }
            if case .token = event { break }
        }
        XCTAssertEqual(assigned, 0, "the first event names the slot")
        let waiting = engine.submit(prompt: Array(text.prefix(12)), parameters: greedy(2))
        do {
            _ = try await GreedyGenerationTests.collect(engine.submit(prompt: Array(text.prefix(14)), parameters: greedy(2)))
            XCTFail("a third request must be refused")
        } catch let error as GenerationError {
            XCTAssertEqual(error, .queueFull(limit: 1))
        }
        // Once the running one ends, the waiting one is served.
        while let event = try await iterator.next() { if case .finished = event { break } }
        let served = try await GreedyGenerationTests.collect(waiting)
        XCTAssertEqual(served.stats.generatedTokens, 2)
        XCTAssertGreaterThan(served.stats.queueSeconds, 0)
    }

    /// Log-probabilities: the same in a session and in the engine, and equal to a naive log-softmax of the
    /// logits of a forward pass over prompt + output.
    func testLogprobsMatchSessionAndForwardPass() async throws {
        let (model, text) = try stories()
        let prompt = Array(text.prefix(30))
        var parameters = greedy(8)
        parameters.logprobs = 3
        func records(_ stream: AsyncThrowingStream<GenerationEvent, Error>) async throws -> ([TokenLogprobs], [Int]) {
            var out: [TokenLogprobs] = [], ids: [Int] = []
            for try await event in stream {
                if case .logprobs(let r) = event { out.append(r) }
                if case .token(let id, _) = event { ids.append(id) }
            }
            return (out, ids)
        }
        let (fromSession, ids) = try await records(try Session(model: model).generate(prompt: prompt, parameters: parameters))
        let engine = try BatchEngine(model: model, slots: 2)
        let (fromEngine, _) = try await records(engine.submit(prompt: prompt, parameters: parameters))
        XCTAssertEqual(fromSession.count, 8)
        XCTAssertEqual(fromSession, fromEngine)
        let sequence = prompt + ids
        let cache = try model.network.makeCache(maxTokens: sequence.count, positions: PlainPositions())
        let all = try model.network.forward(sequence, cache: cache, logits: .all)
        let vocab = model.network.config.vocabularySize
        for (k, r) in fromSession.enumerated() {
            let row = Array(all[((prompt.count - 1 + k) * vocab)..<((prompt.count + k) * vocab)])
            let z = log(row.map { exp(Double($0)) }.reduce(0, +))
            XCTAssertEqual(r.chosen.id, ids[k])
            XCTAssertEqual(Double(r.chosen.logprob), Double(row[ids[k]]) - z, accuracy: 2e-3)
            XCTAssertEqual(r.top.map(\.id), Array(row.indices.sorted { row[$0] > row[$1] }.prefix(3)))
        }
    }
}
