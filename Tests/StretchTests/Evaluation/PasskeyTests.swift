import Stretch
import StretchEvaluation
import XCTest

final class PasskeyTests: XCTestCase {
    func testPromptTextIsExact() throws {
        let p = try PasskeyPrompt(fillerCount: 3, depth: 0.5, key: 12345)
        XCTAssertEqual(p.fillerBeforeKey, 2)  // round(1.5) = 2
        XCTAssertEqual(
            p.text,
            """
            There is an important info hidden inside a lot of irrelevant text. Find it and memorize it. I will quiz you about the important information there.
            The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.
            The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.
            The pass key is 12345. Remember it. 12345 is the pass key.
            The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.
            What is the pass key? The pass key is\u{20}
            """)
    }

    func testDepthEndsPutTheKeyFirstOrLast() throws {
        let first = try PasskeyPrompt(fillerCount: 2, depth: 0, key: 55555).text.split(separator: "\n")
        XCTAssertEqual(first[1], "The pass key is 55555. Remember it. 55555 is the pass key.")
        let last = try PasskeyPrompt(fillerCount: 2, depth: 1, key: 55555).text.split(separator: "\n")
        XCTAssertEqual(last[3], "The pass key is 55555. Remember it. 55555 is the pass key.")
        XCTAssertEqual(last[4], "What is the pass key? The pass key is ")
        XCTAssertThrowsError(try PasskeyPrompt(fillerCount: 2, depth: 1.5, key: 1))
    }

    func testFittingFindsTheLongestPromptWithinTheLength() throws {
        // A stand-in tokenizer: one token per word.
        let count: (String) -> Int = { $0.split(whereSeparator: { $0 == " " || $0 == "\n" }).count }
        let p = try PasskeyPrompt.fitting(length: 200, depth: 0.5, key: 42424, count: count)
        XCTAssertLessThanOrEqual(count(p.text), 200)
        XCTAssertGreaterThan(count(try PasskeyPrompt(fillerCount: p.fillerCount + 1, depth: 0.5, key: 42424).text), 200)
        XCTAssertEqual(p.fillerCount, 8)  // 25 + 13 + 9 + 8·19 = 199 words
        XCTAssertThrowsError(try PasskeyPrompt.fitting(length: 10, depth: 0, key: 1, count: count)) {
            XCTAssertTrue("\($0)".contains("use lengths ≥ 47"), "\($0)")
        }
    }

    func testKeyExtraction() {
        XCTAssertEqual(PasskeyTrial.extractKey(from: "12345. Remember it."), 12345)
        XCTAssertEqual(PasskeyTrial.extractKey(from: " 12345"), 12345)
        XCTAssertEqual(PasskeyTrial.extractKey(from: "**67890**"), 67890)
        XCTAssertEqual(PasskeyTrial.extractKey(from: "1234 5"), 1234)
        XCTAssertNil(PasskeyTrial.extractKey(from: "not in the text"))
        XCTAssertNil(PasskeyTrial.extractKey(from: ""))
        XCTAssertNil(PasskeyTrial.extractKey(from: String(repeating: "9", count: 30)))
        let t = PasskeyTrial(length: 1024, depth: 0.5, key: 12345, promptTokens: 1000, output: "12345.")
        XCTAssertTrue(t.correct)
        XCTAssertFalse(PasskeyTrial(length: 1024, depth: 0.5, key: 12345, promptTokens: 1000, output: "1234").correct)
    }

    func testDecodingStopsOnceANumberIsComplete() {
        XCTAssertFalse(PasskeyTrial.isComplete(" "))
        XCTAssertFalse(PasskeyTrial.isComplete("123"))
        XCTAssertFalse(PasskeyTrial.isComplete("12345"))
        XCTAssertTrue(PasskeyTrial.isComplete("12345."))
        XCTAssertTrue(PasskeyTrial.isComplete("123456"))
    }

    func testKeysAreSeededFiveDigitNumbers() {
        let a = PasskeyRun.keys(seed: 7, count: 50)
        XCTAssertEqual(a, PasskeyRun.keys(seed: 7, count: 50))
        XCTAssertNotEqual(a, PasskeyRun.keys(seed: 8, count: 50))
        XCTAssertTrue(a.allSatisfy { (10000...99999).contains($0) })
    }

    func testTokenCountLists() throws {
        XCTAssertEqual(try TokenCountList.parse("1k,2k,4k,8k"), [1024, 2048, 4096, 8192])
        XCTAssertEqual(try TokenCountList.parse("500,1.5k"), [500, 1536])
        XCTAssertThrowsError(try TokenCountList.parse("1k,,2k"))
        XCTAssertThrowsError(try TokenCountList.parse("lots"))
        XCTAssertEqual([1024, 1536, 1000, 4096].map(TokenCountList.format), ["1k", "1.5k", "1000", "4k"])
    }
}
