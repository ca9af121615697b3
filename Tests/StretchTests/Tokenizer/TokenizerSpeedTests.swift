import Foundation
import Stretch
import XCTest

/// Encoding throughput on a long English text (Pride and Prejudice, 757 kB) with Qwen's byte-level BPE.
/// Prints tokens/s; the only assertion is a generous floor that catches an accidental quadratic path.
final class TokenizerSpeedTests: XCTestCase {
    func testQwenEncodeThroughput() throws {
        let tok = try TokenizerTestResources.tokenizer(TokenizerTestResources.qwen)
        let text = try TokenizerTestResources.sharedText("data/text/pg1342_pride_and_prejudice.txt")
        _ = tok.encode(String(text.prefix(10_000)), addSpecial: false)
        var best = Double.infinity
        var count = 0
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            count = tok.encode(text, addSpecial: false).count
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let rate = Double(count) / best
        print("Qwen encode: \(count) tokens in \(String(format: "%.3f", best)) s = \(Int(rate)) tokens/s")
        XCTAssertGreaterThan(rate, 100_000)
    }
}
