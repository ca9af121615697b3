import XCTest
import Stretch

/// Fused dot vs dequantize-then-naive-dot (Double accumulation), on random raw blocks.
final class QuantizedDotTests: XCTestCase {
    func testDotMatchesDequantizedDotForAllTypes() {
        var g = SplitMix64(seed: 2)
        for type in GGMLType.allCases {
            for count in [type.blockSize == 1 ? 77 : type.blockSize, 1024, 1024 + 4 * 256] {
                for _ in 0..<5 {
                    var bytes = TestData.randomRow(type, count: count, &g)
                    if type.blockSize == 1 {  // float formats: use finite random values, not raw bytes
                        let values = TestData.floats(count, -4...4, &g)
                        bytes = Quantize.row(type, values)
                    }
                    let x = TestData.floats(count, -1...1, &g)
                    let w = TestData.dequantize(type, bytes, count: count)
                    var exact = 0.0, magnitude = 0.0
                    for i in 0..<count {
                        exact += Double(w[i]) * Double(x[i])
                        magnitude += abs(Double(w[i]) * Double(x[i]))
                    }
                    for strategy in QuantizedDot.Strategy.allCases {
                        let got = TestData.dot(type, bytes, x, strategy: strategy)
                        XCTAssertEqual(Double(got), exact, accuracy: 1e-5 * magnitude + 1e-30, "\(type) count \(count) \(strategy)")
                    }
                }
            }
        }
    }
}
