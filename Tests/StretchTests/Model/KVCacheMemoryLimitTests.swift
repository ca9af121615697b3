import Foundation
import Stretch
import XCTest

/// A KV cache the machine cannot hold is refused when it is made, with the numbers, not when it fills up.
final class KVCacheMemoryLimitTests: XCTestCase {
    func testACacheBeyondAvailableMemoryIsRefusedWithTheNumbers() throws {
        let path = NSTemporaryDirectory() + "stretch-kv-limit-\(UUID().uuidString).gguf"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let tiny = TinyModel()
        try tiny.write(to: path)
        let model = try LlamaModel(file: GGUFFile(path: path), options: LoadOptions(precision: .f32))
        let available = try XCTUnwrap(MemoryUsage.availableBytes(), "MemAvailable should be readable here")
        // f32 keys and values: layers · kvHeads · headDim · 4 bytes · 2.
        let perToken = tiny.layers * tiny.kvHeads * (tiny.dim / tiny.heads) * 4 * 2
        let tokens = available / perToken + 1
        XCTAssertThrowsError(try model.makeCache(maxTokens: tokens)) { error in
            guard case let .kvCacheTooLarge(t, each, requested, avail) = error as? ModelError else {
                return XCTFail("expected kvCacheTooLarge, got \(error)")
            }
            XCTAssertEqual(t, tokens)
            XCTAssertEqual(each, perToken)
            XCTAssertEqual(requested, UInt64(tokens * perToken))
            XCTAssertGreaterThan(avail, 0)
            for part in ["\(tokens) tokens", "\(requested) bytes", "(\(perToken) per token)", "\(avail) bytes"] {
                XCTAssertTrue("\(error)".contains(part), "'\(part)' missing from \(error)")
            }
        }
        // A size whose product overflows is refused too, and an ordinary one is not.
        XCTAssertThrowsError(try model.makeCache(maxTokens: Int.max / 2))
        XCTAssertNoThrow(try model.makeCache(maxTokens: 4096))
    }

    func testAvailableMemoryIsPlausible() throws {
        let available = try XCTUnwrap(MemoryUsage.availableBytes())
        // Between 1 MiB and the machine's physical memory.
        XCTAssertGreaterThan(available, 1 << 20)
        XCTAssertLessThanOrEqual(UInt64(available), ProcessInfo.processInfo.physicalMemory)
    }
}
