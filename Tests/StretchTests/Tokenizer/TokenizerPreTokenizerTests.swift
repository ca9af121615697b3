import Foundation
import Stretch
import XCTest

/// Pre-tokenizers without a vocabulary test file of their own (GPT-4o, Tekken, DeepSeek V3), run on the
/// Llama 3 vocabulary relabelled with their `tokenizer.ggml.pre`. Expected ids: Hugging Face `tokenizers`
/// with llama.cpp's regexes for these families, on the same vocabulary and merges. Also: every supported
/// name loads, and aliases behave as their family.
final class TokenizerPreTokenizerTests: XCTestCase {
    /// The llama-bpe vocabulary GGUF with `tokenizer.ggml.pre` replaced.
    private func relabelled(_ pre: String) throws -> Tokenizer {
        let source = try GGUFFile(path: try TokenizerTestResources.sharedPath("tokenizer-vectors/ggml-vocab-llama-bpe.gguf"))
        var writer = GGUFWriter()
        for key in source.metadataKeys where key.hasPrefix("tokenizer.") && key != "tokenizer.ggml.pre" {
            writer.set(key, source.metadata[key]!)
        }
        writer.set("tokenizer.ggml.pre", .string(pre))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("stretch-pre-\(UUID().uuidString).gguf").path
        try writer.write(to: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try Tokenizer(gguf: GGUFFile(path: path))
    }

    private let texts = [
        "Hello WORLD's helloWORLD HTTPServer iPhone приВЕТ ПРИвет 1234567 don'T",
        "  x\n\n\t y ~test [foo](bar) a/b/\n c++ 3.14159",
        "中文字カタカナ한국어 😀👍🏽 e\u{301}té Ωmega ǅungla",
        "    def f(x):\n        return x**2 # note\r\n",
    ]

    private func check(_ pre: String, _ expected: [[Int]], file: StaticString = #filePath, line: UInt = #line) throws {
        let tok = try relabelled(pre)
        for (text, ids) in zip(texts, expected) {
            let got = tok.encode(text, addSpecial: false)
            XCTAssertEqual(got, ids, "\(pre) \(text.debugDescription): " + TokenizerTestResources.firstDifference(got, ids),
                           file: file, line: line)
            XCTAssertEqual(tok.decode(got), text, file: file, line: line)
        }
    }

    func testGPT4o() throws {
        try check("gpt-4o", [
            [9906, 51991, 596, 24748, 54, 26001, 10339, 5592, 602, 7084, 37405, 16604, 127295, 23227, 120968, 48074, 220,
             4513, 10961, 22, 1541, 17773],
            [220, 865, 271, 197, 379, 4056, 1985, 510, 8134, 9725, 2308, 8, 264, 3554, 6018, 272, 1044, 220, 18, 13, 9335, 2946],
            [16325, 88435, 71493, 47307, 71493, 96452, 112699, 32179, 91416, 9468, 239, 235, 9468, 237, 121, 384, 122095,
             978, 117336, 43610, 220, 131, 227, 2234, 4355],
            [262, 711, 282, 2120, 997, 286, 471, 865, 334, 17, 674, 5296, 319],
        ])
    }

    func testTekken() throws {
        try check("tekken", [
            [9906, 51991, 596, 24748, 54, 26001, 10339, 5592, 602, 7084, 37405, 16604, 127295, 23227, 120968, 48074, 220,
             16, 17, 18, 19, 20, 21, 22, 1541, 17773],
            [220, 865, 271, 197, 379, 4056, 1985, 510, 8134, 9725, 2308, 8, 264, 3554, 6018, 272, 1044, 220, 18, 13,
             16, 19, 16, 20, 24],
            [16325, 88435, 71493, 47307, 71493, 96452, 112699, 32179, 91416, 9468, 239, 235, 9468, 237, 121, 384, 122095,
             978, 117336, 43610, 220, 131, 227, 2234, 4355],
            [262, 711, 282, 2120, 997, 286, 471, 865, 334, 17, 674, 5296, 319],
        ])
    }

    /// The second text is where llama.cpp differs from Hugging Face (`…379, 220, 93, 1985…`): its collapsed
    /// `\p{S}` leaves out ASCII `~`, so " ~" is not one punctuation piece. Stretch follows Hugging Face.
    func testDeepSeekV3() throws {
        try check("deepseek-v3", [
            [9906, 51991, 596, 24748, 54, 26001, 10339, 5592, 12443, 37405, 16604, 127295, 23227, 120968, 48074, 220,
             4513, 10961, 22, 1541, 17773],
            [220, 865, 271, 197, 379, 4056, 1985, 510, 8134, 9725, 2308, 8, 264, 3554, 6018, 272, 1044, 220, 18, 13, 9335, 2946],
            [16325, 88435, 71493, 47307, 71493, 96452, 112699, 32179, 91416, 9468, 239, 235, 9468, 237, 121, 384, 122095,
             978, 117336, 43610, 220, 131, 227, 2234, 4355],
            [262, 711, 282, 2120, 997, 286, 471, 865, 334, 17, 674, 5296, 319],
        ])
    }

    func testAliasesMatchTheirFamily() throws {
        let text = texts.joined(separator: " ")
        let llama3 = try relabelled("llama-bpe").encode(text, addSpecial: false)
        XCTAssertEqual(try relabelled("llama3").encode(text, addSpecial: false), llama3)
        XCTAssertEqual(try relabelled("falcon3").encode(text, addSpecial: false), llama3)
        let gpt2 = try relabelled("gpt-2").encode(text, addSpecial: false)
        XCTAssertEqual(try relabelled("mpt").encode(text, addSpecial: false), gpt2)
        XCTAssertNotEqual(gpt2, llama3)
        let starcoder = try relabelled("starcoder").encode(text, addSpecial: false)
        XCTAssertEqual(try relabelled("smollm").encode(text, addSpecial: false), starcoder)
        XCTAssertNotEqual(starcoder, gpt2)
    }

    func testUnknownNameIsRefusedWithTheSupportedList() throws {
        XCTAssertThrowsError(try relabelled("gpt2-typo")) { error in
            guard case .unsupportedPreTokenizer(_, "gpt2-typo", let supported)? = error as? TokenizerError else {
                return XCTFail("\(error)")
            }
            XCTAssertGreaterThan(supported.count, 40)
            for name in ["llama-bpe", "gpt-2", "qwen2", "qwen35", "deepseek-v3", "tekken", "gpt-4o", "smollm"] {
                XCTAssertTrue(supported.contains(name), name)
            }
            XCTAssertTrue("\(error)".contains("'gpt2-typo'") && "\(error)".contains("'command-r'"))
        }
    }
}
