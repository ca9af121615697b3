import Foundation
import Stretch
import XCTest

/// Tokenizer behaviour on tiny hand-made GGUF vocabularies (needs no model files).
final class TokenizerSyntheticTests: XCTestCase {
    private func makeFile(_ metadata: [(String, GGUFValue)]) throws -> GGUFFile {
        var writer = GGUFWriter()
        for (k, v) in metadata { writer.set(k, v) }
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("stretch-tok-\(UUID().uuidString).gguf").path
        try writer.write(to: path)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return try GGUFFile(path: path)
    }

    private func strings(_ s: [String]) -> GGUFValue { .array(.string, s.map { .string($0) }) }
    private func floats(_ f: [Float]) -> GGUFValue { .array(.float32, f.map { .float32($0) }) }
    private func ints(_ i: [Int]) -> GGUFValue { .array(.int32, i.map { .int32(Int32($0)) }) }

    /// SentencePiece vocabulary: <unk> <s> </s>, 256 byte tokens, then pieces with scores.
    private func spm(addSpacePrefix: Bool) throws -> Tokenizer {
        var tokens = ["<unk>", "<s>", "</s>"]
        var types = [2, 3, 3]
        var scores: [Float] = [0, 0, 0]
        for b in 0..<256 {
            tokens.append(String(format: "<0x%02X>", b)); types.append(6); scores.append(0)
        }
        let pieces: [(String, Float, Int)] = [
            ("▁", -1, 1), ("a", -2, 1), ("b", -2, 1), ("c", -2, 1), ("ab", -0.5, 1), ("bc", -0.1, 1),
            ("abc", -0.2, 1), ("x", -3, 1), ("y", -3, 1), ("z", -3, 1), ("xy", -1, 1), ("yz", -1, 1),
            ("▁a", -0.3, 1), ("<user>", 0, 4),
        ]
        for (t, s, k) in pieces { tokens.append(t); scores.append(s); types.append(k) }
        return try Tokenizer(gguf: makeFile([
            ("tokenizer.ggml.model", .string("llama")),
            ("tokenizer.ggml.tokens", strings(tokens)),
            ("tokenizer.ggml.scores", floats(scores)),
            ("tokenizer.ggml.token_type", ints(types)),
            ("tokenizer.ggml.add_space_prefix", .bool(addSpacePrefix)),
        ]))
    }

    private func ids(_ tok: Tokenizer, _ texts: [String]) -> [Int] {
        texts.map { t in (0..<tok.vocabularySize).first { tok.tokenText($0) == t }! }
    }

    func testSentencePieceMergesByScore() throws {
        let tok = try spm(addSpacePrefix: false)
        // bc (-0.1) merges before ab (-0.5); then a+bc = abc (-0.2).
        XCTAssertEqual(tok.encode("abc", addSpecial: false), ids(tok, ["abc"]))
        XCTAssertEqual(tok.encode("ac", addSpecial: false), ids(tok, ["a", "c"]))
        // Equal scores: the leftmost pair wins.
        XCTAssertEqual(tok.encode("xyz", addSpecial: false), ids(tok, ["xy", "z"]))
        // Defaults: add_bos is true for SentencePiece.
        XCTAssertEqual(tok.encode("ab"), [1] + ids(tok, ["ab"]))
    }

    func testSentencePieceByteFallbackAndSpacePrefix() throws {
        let tok = try spm(addSpacePrefix: true)
        // "é" is not a piece: its UTF-8 bytes C3 A9 become <0xC3> <0xA9>.
        XCTAssertEqual(tok.encode("aé", addSpecial: false), ids(tok, ["▁a", "<0xC3>", "<0xA9>"]))
        XCTAssertEqual(tok.decode(tok.encode("aé")), "aé")
        // User-defined tokens are cut out even without parseSpecial; text after a token gets a prefix space.
        XCTAssertEqual(tok.encode("a<user>b", addSpecial: false), ids(tok, ["▁a", "<user>", "▁", "b"]))
        // Control tokens only with parseSpecial.
        XCTAssertEqual(tok.encode("</s>", addSpecial: false, parseSpecial: true), [2])
        XCTAssertFalse(tok.encode("</s>", addSpecial: false, parseSpecial: false).contains(2))
        XCTAssertEqual(tok.decode(tok.encode("x </s> y", addSpecial: true)), "x </s> y")
    }

    func testBytePairMergesByRank() throws {
        // Only the stand-ins needed: "Ġ" is the space byte.
        let tokens = ["a", "b", "c", "Ġ", "ab", "abc", "Ġa", "<|endoftext|>"]
        let types = [1, 1, 1, 1, 1, 1, 1, 3]
        let tok = try Tokenizer(gguf: makeFile([
            ("tokenizer.ggml.model", .string("gpt2")),
            ("tokenizer.ggml.pre", .string("qwen2")),
            ("tokenizer.ggml.tokens", strings(tokens)),
            ("tokenizer.ggml.token_type", ints(types)),
            ("tokenizer.ggml.merges", strings(["a b", "ab c", "Ġ a"])),
            ("tokenizer.ggml.bos_token_id", .uint32(7)),
            ("tokenizer.ggml.eos_token_id", .uint32(7)),
        ]))
        // " abc" is one pre-token; rank 0 (a b) then rank 1 (ab c) win over rank 2 (Ġ a).
        XCTAssertEqual(tok.encode(" abc"), [3, 5])
        XCTAssertEqual(tok.encode(" ab"), [3, 4])
        XCTAssertEqual(tok.encode(" a"), [6])
        XCTAssertEqual(tok.decode([3, 5]), " abc")
        XCTAssertFalse(tok.addBOS)
        XCTAssertTrue(tok.isEndOfGeneration(7))
        XCTAssertEqual(tok.encode("<|endoftext|>ab", parseSpecial: true), [7, 4])
    }

    func testErrorsAreTypedAndActionable() throws {
        XCTAssertThrowsError(try Tokenizer(gguf: makeFile([
            ("tokenizer.ggml.model", .string("bert")), ("tokenizer.ggml.tokens", strings(["a"])),
        ]))) { error in
            guard case .unsupportedModel(_, "bert")? = error as? TokenizerError else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("gpt2"))
        }
        XCTAssertThrowsError(try Tokenizer(gguf: makeFile([("general.name", .string("x"))]))) { error in
            guard case .missingKey(_, "tokenizer.ggml.model")? = error as? TokenizerError else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("convert"))
        }
        XCTAssertThrowsError(try Tokenizer(gguf: makeFile([("tokenizer.ggml.model", .string("llama"))]))) { error in
            guard case .missingKey(_, "tokenizer.ggml.tokens")? = error as? TokenizerError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try Tokenizer(gguf: makeFile([
            ("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.pre", .string("chameleon")),
            ("tokenizer.ggml.tokens", strings(["a"])),
        ]))) { error in
            guard case let .unsupportedPreTokenizer(_, "chameleon", supported)? = error as? TokenizerError else {
                return XCTFail("\(error)")
            }
            XCTAssertTrue(supported.contains("llama-bpe") && supported.contains("qwen2") && supported.contains("gpt-2"))
            XCTAssertTrue("\(error)".contains("'chameleon'") && "\(error)".contains("'deepseek-coder'"))
        }
        XCTAssertThrowsError(try Tokenizer(gguf: makeFile([
            ("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.pre", .string("qwen2")),
            ("tokenizer.ggml.tokens", strings(["a"])),
        ]))) { error in
            guard case .missingKey(_, "tokenizer.ggml.merges")? = error as? TokenizerError else { return XCTFail("\(error)") }
        }
    }
}
