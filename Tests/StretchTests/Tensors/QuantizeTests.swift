import XCTest
import Stretch

/// Quantize → Dequantize round trips: error bounds per type, relative to each block's max |x|.
final class QuantizeTests: XCTestCase {
    /// Max |error| / max |x| allowed per block (one quantization step plus margin for clamped extremes
    /// and 6/8-bit sub-scale rounding).
    static func bound(_ type: GGMLType) -> Float {
        switch type {
        case .f32: return 0
        case .f16: return 1.0 / 2048
        case .bf16: return 1.0 / 256
        case .q8_0: return 0.006
        case .q4_0: return 0.13
        case .q4_1: return 0.075
        case .q5_0: return 0.065
        case .q5_1: return 0.036
        case .q4_K: return 0.09
        case .q5_K: return 0.045
        case .q6_K: return 0.025
        case .q2_K: return 0.45
        case .q3_K: return 0.3
        case .iq4_nl: return 0.11
        case .iq4_xs: return 0.15
        }
    }

    func testRoundTripErrorBounds() {
        var g = SplitMix64(seed: 3)
        for type in GGMLType.allCases {
            let count = 1024
            var worst: Float = 0
            for trial in 0..<4 {
                // Mix of uniform data and heavier-tailed data with per-256 magnitude changes.
                var x = TestData.floats(count, -1...1, &g)
                if trial % 2 == 1 {
                    for i in 0..<count { x[i] = x[i] * x[i] * x[i] * Float(1 + (i / 256) * 3) }
                }
                let bytes = Quantize.row(type, x)
                XCTAssertEqual(bytes.count, type.rowBytes(count))
                let y = TestData.dequantize(type, bytes, count: count)
                // The reference reader must agree, i.e. the blocks are valid ggml blocks.
                XCTAssertEqual(ReferenceDequantizer.row(type, bytes, count: count), y, "\(type)")
                let bs = max(type.blockSize, 32)
                for blk in 0..<(count / bs) {
                    let r = (blk * bs)..<((blk + 1) * bs)
                    let amax = r.map { abs(x[$0]) }.max()!
                    let err = r.map { abs(x[$0] - y[$0]) }.max()!
                    worst = max(worst, err / max(amax, 1e-30))
                }
            }
            XCTAssertLessThanOrEqual(worst, Self.bound(type), "\(type) worst relative block error \(worst)")
        }
    }

    func testZeroAndConstantRows() {
        for type in GGMLType.allCases {
            let zeros = [Float](repeating: 0, count: 256)
            XCTAssertEqual(TestData.dequantize(type, Quantize.row(type, zeros), count: 256), zeros, "\(type)")
            let ones = [Float](repeating: 0.75, count: 256)
            let y = TestData.dequantize(type, Quantize.row(type, ones), count: 256)
            XCTAssertLessThanOrEqual(y.map { abs($0 - 0.75) }.max()!, 0.75 * Self.bound(type) + 1e-6, "\(type)")
        }
    }
}
