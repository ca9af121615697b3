import Foundation
import Stretch
import XCTest

/// Greedy generation through a ``Session`` stream against independent references (karpathy's llama2.c
/// sample, llama.cpp's output) and against a plain forward-and-argmax loop on the model.
final class GreedyGenerationTests: XCTestCase {
    /// Collects a stream's token ids, text and final statistics.
    static func collect(
        _ stream: AsyncThrowingStream<GenerationEvent, Error>
    ) async throws -> (ids: [Int], text: String, stats: GenerationStatistics) {
        var ids: [Int] = [], text = "", stats: GenerationStatistics?
        for try await event in stream {
            switch event {
            case let .token(id, piece):
                ids.append(id)
                text += piece
            case let .text(piece): text += piece
            case let .finished(s): stats = s
            case .logprobs, .assigned: break
            }
        }
        return (ids, text, try XCTUnwrap(stats, "the stream ended without a finished event"))
    }

    /// Greedy ids from a forward-and-argmax loop on a fresh cache (the engine below the session).
    static func argmaxLoop(_ model: LlamaModel, prompt: [Int], count: Int, positions: PositionMap = PlainPositions()) throws -> [Int] {
        let cache = try model.makeCache(maxTokens: prompt.count + count, positions: positions)
        var logits = try model.forward(prompt, cache: cache)
        var ids: [Int] = []
        for _ in 0..<count {
            let next = logits.indices.max { logits[$0] < logits[$1] || (logits[$0] == logits[$1] && $0 > $1) }!
            ids.append(next)
            logits = try model.forward([next], cache: cache)
        }
        return ids
    }

    /// 256 greedy tokens from BOS equal ../shared/models/stories260K.greedy-256.txt byte for byte.
    func testStories260KGreedy256FromBOS() async throws {
        var expected = try String(contentsOfFile: TestFiles.shared("models/stories260K.greedy-256.txt"), encoding: .utf8)
        if expected.hasSuffix("\n") { expected.removeLast() }  // the file's final newline is not output
        let model = try LanguageModel(path: TestFiles.stories260K)
        let session = try Session(model: model, contextSize: 512)
        let bos = try XCTUnwrap(model.tokenizer.bosID)
        let out = try await Self.collect(session.generate(
            prompt: [bos], parameters: GenerationParameters(maxTokens: 256, sampling: .greedy)))
        XCTAssertEqual(out.stats.generatedTokens, 256)
        XCTAssertEqual(out.stats.stopReason, .maxTokens)
        XCTAssertEqual(out.text, expected)
        XCTAssertEqual(out.ids, try Self.argmaxLoop(model.network, prompt: [bos], count: 256))
    }

    /// llama.cpp's 32 greedy tokens for "def fibonacci(n):" on Qwen2.5-Coder-0.5B-Instruct, streamed.
    func testQwenGreedyMatchesLlamaCpp() async throws {
        let ref = try TestFiles.json(TestFiles.shared("models/reference-llama.cpp.json"))["qwen2.5-coder-0.5b-instruct-q4_k_m"] as! [String: Any]
        let promptIDs = (ref["prompt_ids"] as! [Any]).map { ($0 as! NSNumber).intValue }
        let expectedIDs = (ref["greedy_ids"] as! [Any]).map { ($0 as! NSNumber).intValue }
        let model = try LanguageModel(path: TestFiles.qwen)
        XCTAssertEqual(model.tokenizer.encode(ref["prompt"] as! String), promptIDs)
        let session = try Session(model: model, contextSize: 64)
        let out = try await Self.collect(session.generate(
            prompt: promptIDs, parameters: GenerationParameters(maxTokens: expectedIDs.count, sampling: .greedy)))
        XCTAssertEqual(out.ids, expectedIDs)
        XCTAssertEqual(out.text, ref["greedy_text"] as! String)
        XCTAssertEqual(out.ids, try Self.argmaxLoop(model.network, prompt: promptIDs, count: expectedIDs.count))
    }
}
