import Foundation
import Stretch
import XCTest

/// Greedy generation against independent references (karpathy's llama2.c sample, llama.cpp's output).
final class GreedyGenerationTests: XCTestCase {
    /// 256 greedy tokens from BOS equal ../shared/models/stories260K.greedy-256.txt byte for byte.
    func testStories260KGreedy256FromBOS() throws {
        var expected = try String(contentsOfFile: TestFiles.shared("models/stories260K.greedy-256.txt"), encoding: .utf8)
        if expected.hasSuffix("\n") { expected.removeLast() }  // the file's final newline is not output
        let gguf = try GGUFFile(path: TestFiles.stories260K)
        let model = try LlamaModel(file: gguf)
        let tokenizer = try Tokenizer(gguf: gguf)
        let generator = TextGenerator(model: model, tokenizer: tokenizer, positions: PlainPositions(), contextSize: 512)
        var text = ""
        let stats = try generator.generate(promptTokens: [tokenizer.bosID!], maxTokens: 256, sampling: .greedy) { text += $0 }
        XCTAssertEqual(stats.generatedTokens, 256)
        XCTAssertEqual(text, expected)
    }

    /// llama.cpp's 32 greedy tokens for "def fibonacci(n):" on Qwen2.5-Coder-0.5B-Instruct.
    func testQwenGreedyMatchesLlamaCpp() throws {
        let ref = try TestFiles.json(TestFiles.shared("models/reference-llama.cpp.json"))["qwen2.5-coder-0.5b-instruct-q4_k_m"] as! [String: Any]
        let promptIDs = (ref["prompt_ids"] as! [Any]).map { ($0 as! NSNumber).intValue }
        let expectedIDs = (ref["greedy_ids"] as! [Any]).map { ($0 as! NSNumber).intValue }
        let gguf = try GGUFFile(path: TestFiles.qwen)
        let model = try LlamaModel(file: gguf)
        let tokenizer = try Tokenizer(gguf: gguf)
        XCTAssertEqual(tokenizer.encode(ref["prompt"] as! String), promptIDs)
        let cache = model.makeCache(maxTokens: 64, positions: PlainPositions())
        var logits = try model.forward(promptIDs, cache: cache)
        var ids: [Int] = []
        for _ in 0..<expectedIDs.count {
            let next = logits.withUnsafeBufferPointer { VectorOps.argmax($0.baseAddress!, $0.count) }
            ids.append(next)
            logits = try model.forward([next], cache: cache)
        }
        XCTAssertEqual(ids, expectedIDs)
        XCTAssertEqual(tokenizer.decode(ids), ref["greedy_text"] as! String)
    }
}
