import Foundation
import Stretch
import XCTest

/// Byte-level BPE against Hugging Face `tokenizers` on fuzz strings, one small BPE per pre-tokenizer
/// trained and exported to a vocabulary-only GGUF by `scripts/tokenizer_fuzz.py`, which also recorded
/// Hugging Face's ids. The committed sample (`Fixtures/fuzz/`, 300 strings per pre-tokenizer) runs in CI;
/// `STRETCH_TOKENIZER_FUZZ_DIR` points the same test at a larger run of the script (`--count 10000`).
final class TokenizerFuzzTests: XCTestCase {
    static var directory: String {
        ProcessInfo.processInfo.environment["STRETCH_TOKENIZER_FUZZ_DIR"]
            ?? TestFiles.repositoryRoot.appendingPathComponent("Tests/StretchTests/Tokenizer/Fixtures/fuzz").path
    }

    func testEveryPreTokenizerMatchesHuggingFace() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.directory)
            .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
        XCTAssertGreaterThanOrEqual(names.count, 15, "fuzz files in \(Self.directory)")
        var summary: [String] = []
        for name in names {
            let base = Self.directory + "/" + name
            let tokenizer = try Tokenizer(gguf: GGUFFile(path: base + ".gguf"))
            let root = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: base + ".json")))
                                     as? [String: Any])
            XCTAssertEqual(root["pre"] as? String, name)
            let cases = try XCTUnwrap(root["cases"] as? [[String: Any]])
            XCTAssertGreaterThan(cases.count, 0, name)
            var mismatches = 0
            for item in cases {
                let text = try XCTUnwrap(item["text"] as? String), expected = try XCTUnwrap(item["ids"] as? [Int])
                let ids = tokenizer.encode(text, addSpecial: false)
                if ids != expected {
                    mismatches += 1
                    if mismatches <= 5 {
                        XCTFail("\(name) \(text.debugDescription): " + TokenizerTestResources.firstDifference(ids, expected))
                    }
                }
                XCTAssertEqual(tokenizer.decode(ids), text, "\(name) round trip of \(text.debugDescription)")
            }
            XCTAssertEqual(mismatches, 0, "\(name): \(mismatches) of \(cases.count) strings differ from Hugging Face")
            summary.append("\(name) \(cases.count - mismatches)/\(cases.count)")
        }
        print("tokenizer fuzz (\(Self.directory)): " + summary.joined(separator: ", "))
    }
}
