import Foundation
import Stretch
import XCTest

/// Exact id equality with llama.cpp on the three reference models.
final class TokenizerReferenceTests: XCTestCase {
    private func checkReference(model file: String) throws {
        let key = String(file.dropLast(5))
        let tok = try TokenizerTestResources.tokenizer(file)
        let ref = try TokenizerTestResources.reference(key)
        if let text = ref["test_string"] as? String {
            let withSpecial = try XCTUnwrap(ref["test_ids_add_special"] as? [Int])
            let noSpecial = try XCTUnwrap(ref["test_ids_no_special"] as? [Int])
            let a = tok.encode(text, addSpecial: true)
            let b = tok.encode(text, addSpecial: false)
            XCTAssertEqual(a, withSpecial, "\(key) add_special: " + TokenizerTestResources.firstDifference(a, withSpecial))
            XCTAssertEqual(b, noSpecial, "\(key) no_special: " + TokenizerTestResources.firstDifference(b, noSpecial))
        }
        let prompt = try XCTUnwrap(ref["prompt"] as? String)
        let promptIDs = try XCTUnwrap(ref["prompt_ids"] as? [Int])
        XCTAssertEqual(tok.encode(prompt), promptIDs, "\(key) prompt")
    }

    func testStoriesReference() throws { try checkReference(model: TokenizerTestResources.stories) }
    func testQwenReference() throws { try checkReference(model: TokenizerTestResources.qwen) }
    func testGemmaReference() throws { try checkReference(model: TokenizerTestResources.gemma) }

    func testStoriesPromptLiteral() throws {
        let tok = try TokenizerTestResources.tokenizer(TokenizerTestResources.stories)
        XCTAssertEqual(tok.encode("Once upon a time"), [1, 403, 407, 261, 378])
        XCTAssertEqual(tok.encode("Once upon a time", addSpecial: false), [403, 407, 261, 378])
    }

    /// 2,273 ids of the Apache-2.0 licence text, no BOS.
    func testQwenGoldenLicence() throws {
        let tok = try TokenizerTestResources.tokenizer(TokenizerTestResources.qwen)
        let text = try TokenizerTestResources.sharedText("golden/qwen2.5-coder-0.5b/input_text.txt")
        let expected = try TokenizerTestResources.goldenTokens("golden/qwen2.5-coder-0.5b/tokens.json")
        XCTAssertEqual(expected.count, 2273)
        let ids = tok.encode(text, addSpecial: true)
        XCTAssertEqual(ids, expected, TokenizerTestResources.firstDifference(ids, expected))
    }

    /// 15 stories, each `[BOS] + pieces`, concatenated, first 1,500 kept.
    func testStoriesGolden() throws {
        let tok = try TokenizerTestResources.tokenizer(TokenizerTestResources.stories)
        let text = try TokenizerTestResources.sharedText("golden/stories260K/input_text.txt")
        let expected = try TokenizerTestResources.goldenTokens("golden/stories260K/tokens.json")
        let stories = text.components(separatedBy: "\n\n")
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }
        XCTAssertEqual(stories.count, 15)
        var ids: [Int] = []
        for story in stories { ids += tok.encode(story, addSpecial: true) }
        let got = Array(ids.prefix(expected.count))
        XCTAssertEqual(got, expected, TokenizerTestResources.firstDifference(got, expected))
    }
}
