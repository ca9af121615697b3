import Foundation
import Stretch
import XCTest

/// Token counts implied by llama.cpp's `pp_chars_per_token` (20,000 characters of Pride and Prejudice
/// after the Gutenberg START line: 20000 / 4.31406… = 4636 for Qwen, 20000 / 4.42380… = 4521 for Gemma).
final class TokenizerCountTests: XCTestCase {
    private func checkCount(model file: String, key: String) throws {
        let tok = try TokenizerTestResources.tokenizer(file)
        let ref = try TokenizerTestResources.reference(key)
        let charsPerToken = try XCTUnwrap(ref["pp_chars_per_token"] as? Double)
        let expected = Int((20000 / charsPerToken).rounded())
        let full = try TokenizerTestResources.sharedText("data/text/pg1342_pride_and_prejudice.txt")
        let marker = try XCTUnwrap(full.range(of: "*** START OF THE PROJECT GUTENBERG EBOOK PRIDE AND PREJUDICE ***"))
        let afterMarker = full[marker.upperBound...]
        let body = afterMarker[afterMarker.index(after: try XCTUnwrap(afterMarker.firstIndex(of: "\n")))...]
        let text = String(String.UnicodeScalarView(body.unicodeScalars.prefix(20000)))
        XCTAssertEqual(tok.encode(text, addSpecial: false).count, expected)
    }

    func testQwenCount() throws { try checkCount(model: TokenizerTestResources.qwen, key: "qwen2.5-coder-0.5b-instruct-q4_k_m") }
    func testGemmaCount() throws { try checkCount(model: TokenizerTestResources.gemma, key: "gemma-3-270m-q4_k_m") }
}
