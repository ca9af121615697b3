import Stretch
import StretchKernelsC
import XCTest

/// The packed-panel prefill kernel (`stretch_pack_panel32` + `stretch_gemm_panel32`) at every ISA level
/// this CPU has, against a double-precision product, over shapes that hit every remainder: partial
/// panels (nr < 32, < 16), token counts that are not multiples of the 14/8/4/2 tiles, and columns that
/// are not multiples of the 16-column transpose.
final class PanelGemmTests: XCTestCase {
    func testPanelProductMatchesDoublePrecision() {
        var g = SplitMix64(seed: 21)
        TestData.forEachCLevel { level in
            for (nr, cols) in [(32, 64), (31, 40), (16, 96), (5, 17), (1, 16), (20, 896)] {
                for tokens in [1, 2, 3, 4, 5, 13, 14, 15, 29, 37] {
                    let w = TestData.floats(nr * cols, -1...1, &g)
                    let x = TestData.floats(tokens * cols, -2...2, &g)
                    let ldy = nr + 3  // y rows wider than the panel: columns past nr must stay untouched
                    var y = [Float](repeating: .nan, count: tokens * ldy)
                    var panel = [Float](repeating: .nan, count: 32 * cols)
                    w.withUnsafeBufferPointer { stretch_pack_panel32($0.baseAddress!, cols, Int32(nr), &panel) }
                    for k in 0..<cols {
                        for r in 0..<32 {
                            XCTAssertEqual(panel[32 * k + r], r < nr ? w[r * cols + k] : 0, "pack level \(level) k \(k) r \(r)")
                        }
                    }
                    x.withUnsafeBufferPointer { xb in
                        y.withUnsafeMutableBufferPointer {
                            stretch_gemm_panel32(panel, cols, xb.baseAddress!, cols, tokens, $0.baseAddress!, ldy, Int32(nr))
                        }
                    }
                    for t in 0..<tokens {
                        for r in 0..<ldy {
                            let got = y[t * ldy + r]
                            if r >= nr {
                                XCTAssertTrue(got.isNaN, "level \(level): wrote past nr at t \(t) r \(r)")
                                continue
                            }
                            var exact = 0.0, magnitude = 0.0
                            for k in 0..<cols {
                                exact += Double(w[r * cols + k]) * Double(x[t * cols + k])
                                magnitude += abs(Double(w[r * cols + k]) * Double(x[t * cols + k]))
                            }
                            XCTAssertEqual(Double(got), exact, accuracy: 1e-5 * magnitude,
                                           "level \(level) nr \(nr) cols \(cols) tokens \(tokens) t \(t) r \(r)")
                        }
                    }
                }
            }
        }
    }
}
