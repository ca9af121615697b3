import Foundation
import Stretch
import XCTest

/// Hyperparameters from a hostile GGUF are checked against the file before anything is sized by them.
final class ModelConfigLimitsTests: XCTestCase {
    /// Found by FuzzGGUF (Fuzz/regressions/FuzzGGUF/embedding-length-1e9-timeout): `embedding_length` 1,056,964,616
    /// with 2 heads made `ModelConfig` build a 528-million-entry rotary table (> 10 s, 1.6 GB) before any check.
    func testHugeWidthsAreRefusedBeforeTheRotaryTable() throws {
        let directory = NSTemporaryDirectory() + "stretch-config-limits-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cases: [(String, GGUFValue, String)] = [
            ("llama.embedding_length", .uint32(1_056_964_616), "llama.embedding_length"),
            ("llama.attention.key_length", .uint32(1 << 30), "llama.attention.key_length"),
            ("llama.rope.dimension_count", .uint32(1 << 30), "llama.rope.dimension_count"),
        ]
        for (key, value, field) in cases {
            var tiny = TinyModel()
            tiny.extraMetadata = [(key, value)]  // later keys win: overrides the model's own value
            let path = directory + "/\(key).gguf"
            try tiny.write(to: path)
            let start = Date()
            XCTAssertThrowsError(try ModelConfig(file: GGUFFile(path: path)), key) { error in
                guard case let .invalidValue(_, k, reason) = error as? GGUFError else { return XCTFail("\(error)") }
                XCTAssertEqual(k, field)
                XCTAssertTrue(reason.contains("\(value.intValue!)"), reason)
            }
            XCTAssertLessThan(Date().timeIntervalSince(start), 1, "\(key) took too long to refuse")
        }
    }
}
