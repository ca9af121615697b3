import Foundation
import Stretch
import XCTest

/// llama.cpp's vocabulary-only GGUFs with Hugging Face's expected ids (`../shared/tokenizer-vectors/`):
/// every input must encode (no BOS, no special parsing) to its `.out` line and decode back to itself.
final class TokenizerVectorTests: XCTestCase {
    private func check(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let base = "tokenizer-vectors/ggml-vocab-\(name).gguf"
        let tok = try Tokenizer(gguf: GGUFFile(path: try TokenizerTestResources.sharedPath(base)))
        let inputs = try TokenizerTestResources.sharedText(base + ".inp")
            .components(separatedBy: "\n__ggml_vocab_test__\n").dropLast()
        let outputs = try TokenizerTestResources.sharedText(base + ".out")
            .split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        XCTAssertEqual(inputs.count, outputs.count, "\(name): inputs vs expected lines", file: file, line: line)
        for (text, expectedLine) in zip(inputs, outputs) {
            let expected = expectedLine.split(separator: " ").map { Int($0)! }
            let ids = tok.encode(text, addSpecial: false)
            XCTAssertEqual(ids, expected, "\(name) \(text.debugDescription): "
                           + TokenizerTestResources.firstDifference(ids, expected), file: file, line: line)
            XCTAssertEqual(tok.decode(ids), text, "\(name) round trip of \(text.debugDescription)", file: file, line: line)
        }
    }

    func testLlamaBPE() throws { try check("llama-bpe") }
    func testGPT2() throws { try check("gpt-2") }
    func testStarCoder() throws { try check("starcoder") }
    func testRefact() throws { try check("refact") }
    func testFalcon() throws { try check("falcon") }
    func testDeepSeekLLM() throws { try check("deepseek-llm") }
    func testDeepSeekCoder() throws { try check("deepseek-coder") }
    func testCommandR() throws { try check("command-r") }
    func testQwen2() throws { try check("qwen2") }
    func testQwen35() throws { try check("qwen35") }
    func testMPT() throws { try check("mpt") }
    func testPhi3() throws { try check("phi-3") }
    func testLlamaSPM() throws { try check("llama-spm") }
}
