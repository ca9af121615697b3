import Foundation
import Stretch
import XCTest

/// Round trips, special tokens, end-of-generation detection and display pieces on the real models.
final class TokenizerBehaviorTests: XCTestCase {
    static let unicodeSamples: [String] = [
        "Hello world! Self-Extend lets a RoPE model read 4x longer text.\n  def f(x): return x**2  # café ünïcödé 日本語",
        "",
        " ",
        "  leading and trailing  ",
        "tabs\tand\r\nCRLF\r\n\r\n\n\n",
        "emoji 👩‍👩‍👧‍👦 🇫🇷 👍🏽 and ZWJ",
        "combining: e\u{301} vs é, Å vs A\u{30A}",
        "CJK 日本語のテキスト、中文文本，한국어 텍스트",
        "RTL: مرحبا بالعالم שלום עולם",
        "math ∑∫√∞ ≤ ≥ ≠ and ½ ¾ ² ³ and ١٢٣ digits",
        "whitespace\u{00A0}nbsp\u{3000}ideographic\u{2028}line sep\u{0085}nel",
        "contractions: I'm you're they've we'll he'd it's DON'T",
        "code: for (int i = 0; i < n; ++i) { x[i] += 42; } // ok\n\tindent",
        "<|im_start|> literal control text <|im_end|> and <s></s><end_of_turn>",
        "\u{0}nul and \u{1F}unit sep and \u{7F}del",
    ]

    private func checkRoundTrips(_ file: String) throws {
        let tok = try TokenizerTestResources.tokenizer(file)
        for sample in Self.unicodeSamples {
            XCTAssertEqual(tok.decode(tok.encode(sample, addSpecial: false)), sample, "\(file) no BOS: \(sample.debugDescription)")
            XCTAssertEqual(tok.decode(tok.encode(sample, addSpecial: true)), sample, "\(file) with BOS: \(sample.debugDescription)")
        }
    }

    func testRoundTripQwen() throws { try checkRoundTrips(TokenizerTestResources.qwen) }
    func testRoundTripGemma() throws { try checkRoundTrips(TokenizerTestResources.gemma) }
    func testRoundTripStories() throws { try checkRoundTrips(TokenizerTestResources.stories) }

    /// With add_space_prefix the encoded first piece carries a space: it shows in the raw pieces.
    func testStoriesLeadingSpaceIsInThePieces() throws {
        let tok = try TokenizerTestResources.tokenizer(TokenizerTestResources.stories)
        XCTAssertTrue(tok.addSpacePrefix)
        let ids = tok.encode("Once", addSpecial: false)
        XCTAssertEqual(tok.piece(ids[0]).first, " ")
        XCTAssertEqual(tok.decode(ids), "Once")
        // A continuation decoded on its own keeps its space.
        let upon = tok.encode(" upon", addSpecial: false)
        XCTAssertEqual(tok.decode([403] + upon), "Once  upon")
    }

    func testQwenParseSpecial() throws {
        let tok = try TokenizerTestResources.tokenizer(TokenizerTestResources.qwen)
        let text = "<|im_start|>user\nhi<|im_end|>"
        let ids = tok.encode(text, addSpecial: true, parseSpecial: true)
        let inner = tok.encode("user\nhi", addSpecial: false)
        XCTAssertEqual(ids, [151644] + inner + [151645])
        // Without parseSpecial the markers are ordinary text.
        let plain = tok.encode(text, addSpecial: true, parseSpecial: false)
        XCTAssertFalse(plain.contains(151644))
        XCTAssertFalse(plain.contains(151645))
        XCTAssertEqual(tok.decode(plain), text)
        // Control tokens decode to nothing unless rendered.
        XCTAssertEqual(tok.decode(ids), "user\nhi")
        XCTAssertEqual(tok.decode(ids, renderSpecial: true), text)
    }

    func testGemmaParseSpecial() throws {
        let tok = try TokenizerTestResources.tokenizer(TokenizerTestResources.gemma)
        let start = tok.encode("<start_of_turn>", addSpecial: false, parseSpecial: true)
        let end = tok.encode("<end_of_turn>", addSpecial: false, parseSpecial: true)
        XCTAssertEqual(start.count, 1)
        XCTAssertEqual(end.count, 1)
        let ids = tok.encode("<start_of_turn>user\nhi<end_of_turn>\n", addSpecial: true, parseSpecial: true)
        XCTAssertEqual(ids, [2] + start + tok.encode("user\nhi", addSpecial: false) + end + tok.encode("\n", addSpecial: false))
        XCTAssertTrue(tok.isEndOfGeneration(end[0]))
    }

    func testSpecialIDsAndEndOfGeneration() throws {
        let qwen = try TokenizerTestResources.tokenizer(TokenizerTestResources.qwen)
        XCTAssertEqual(qwen.vocabularySize, 151936)
        XCTAssertEqual(qwen.bosID, 151643)
        XCTAssertEqual(qwen.eosID, 151645)
        XCTAssertFalse(qwen.addBOS)
        XCTAssertTrue(qwen.isEndOfGeneration(151645))  // <|im_end|>
        XCTAssertTrue(qwen.isEndOfGeneration(151643))  // <|endoftext|>
        XCTAssertFalse(qwen.isEndOfGeneration(151644))  // <|im_start|>
        XCTAssertFalse(qwen.isEndOfGeneration(198))
        XCTAssertEqual(qwen.piece(151645), "<|im_end|>")
        XCTAssertEqual(qwen.tokenText(279), "Ġthe")
        XCTAssertEqual(qwen.piece(279), " the")

        let gemma = try TokenizerTestResources.tokenizer(TokenizerTestResources.gemma)
        XCTAssertEqual(gemma.vocabularySize, 262144)
        XCTAssertEqual(gemma.bosID, 2)
        XCTAssertEqual(gemma.eosID, 1)
        XCTAssertTrue(gemma.addBOS)
        XCTAssertFalse(gemma.addSpacePrefix)
        XCTAssertTrue(gemma.isEndOfGeneration(1))
        XCTAssertEqual(gemma.tokenText(106), "<end_of_turn>")
        XCTAssertTrue(gemma.isEndOfGeneration(106))
        XCTAssertFalse(gemma.isEndOfGeneration(2))

        let stories = try TokenizerTestResources.tokenizer(TokenizerTestResources.stories)
        XCTAssertEqual(stories.vocabularySize, 512)
        XCTAssertEqual(stories.bosID, 1)
        XCTAssertEqual(stories.eosID, 2)
        XCTAssertTrue(stories.isEndOfGeneration(2))
        XCTAssertFalse(stories.isEndOfGeneration(1))
        XCTAssertEqual(stories.piece(13), "<0x0A>")
        XCTAssertEqual(stories.pieceBytes(13), [0x0A])
        XCTAssertEqual(stories.kind(13), .byte)
    }

    func testStreamingDecoderHoldsBackSplitCharacters() throws {
        // stories260K has no CJK pieces: each character becomes three <0xXX> byte tokens.
        let tok = try TokenizerTestResources.tokenizer(TokenizerTestResources.stories)
        let ids = tok.encode("日本", addSpecial: false)
        XCTAssertEqual(ids.count, 7)  // "▁" + 3 + 3 bytes
        var stream = StreamingDecoder(tokenizer: tok)
        var outputs: [String] = []
        for id in ids { outputs.append(stream.append(id)) }
        XCTAssertEqual(outputs, [" ", "", "", "日", "", "", "本"])
        XCTAssertEqual(stream.flush(), "")

        var fromStart = StreamingDecoder(tokenizer: tok, stripLeadingSpace: true)
        var text = ""
        for id in tok.encode("Hi 日本語 there", addSpecial: true) { text += fromStart.append(id) }
        text += fromStart.flush()
        XCTAssertEqual(text, "Hi 日本語 there")

        // An incomplete tail is only released by flush, as U+FFFD.
        var partial = StreamingDecoder(tokenizer: tok)
        XCTAssertEqual(partial.append(ids[1]), "")
        XCTAssertEqual(partial.append(ids[2]), "")
        XCTAssertEqual(partial.flush(), "\u{FFFD}")
    }

    func testStreamingDecoderMatchesDecodeOnQwen() throws {
        let tok = try TokenizerTestResources.tokenizer(TokenizerTestResources.qwen)
        for sample in Self.unicodeSamples {
            let ids = tok.encode(sample, addSpecial: false)
            var stream = StreamingDecoder(tokenizer: tok)
            var text = ""
            for id in ids {
                let chunk = stream.append(id)
                XCTAssertFalse(chunk.contains("\u{FFFD}"), "chunk split a character: \(sample.debugDescription)")
                text += chunk
            }
            text += stream.flush()
            XCTAssertEqual(text, sample)
        }
    }
}
