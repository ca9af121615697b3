import Foundation
import Stretch
import XCTest

/// The vectorized `exp` of the attention softmax against Foundation's `expf`.
final class VectorExpTests: XCTestCase {
    /// Lane-wise relative error (absolute below the smallest normal float, where `expf` itself is coarse).
    static func error(_ x: Float) -> Double {
        let got = Double(VectorOps.exp(SIMD16(repeating: x))[0])
        let want = Double(Foundation.expf(x))
        if want < Double(Float.leastNormalMagnitude) { return abs(got - want) / Double(Float.leastNormalMagnitude) }
        return abs(got - want) / want
    }

    func testMatchesExpfOverTheWholeRange() {
        var worst = 0.0
        var worstX: Float = 0
        // Dense grid over [-110, 90], plus every lane position used (the grid is fed 16 lanes at a time).
        var x: Float = -110
        while x < 90 {
            var v = SIMD16<Float>()
            for l in 0..<16 { v[l] = x + Float(l) * 0.000_61 }
            let e = VectorOps.exp(v)
            for l in 0..<16 {
                let want = Double(Foundation.expf(v[l]))
                let got = Double(e[l])
                let err = want < Double(Float.leastNormalMagnitude)
                    ? abs(got - want) / Double(Float.leastNormalMagnitude) : abs(got - want) / want
                if err > worst {
                    worst = err
                    worstX = v[l]
                }
            }
            x += 0.0097
        }
        XCTAssertLessThan(worst, 3e-7, "worst relative error at x = \(worstX)")
        // Small arguments, where the result is 1 + x to within rounding.
        for x: Float in [0, -0.0, 1e-8, -1e-8, 1e-3, -1e-3, 0.346, -0.346, 0.347, -0.347] {
            XCTAssertLessThan(Self.error(x), 2.5e-7, "x = \(x)")
        }
    }

    func testLimits() {
        let e = VectorOps.exp(SIMD16(-Float.infinity, -1e30, -1000, -110, -104, 0, 1, 88.7, 89, 100, 1e30,
                                     Float.infinity, .nan, -87.5, -100, 88.72))
        XCTAssertEqual(e[0], 0)
        XCTAssertEqual(e[1], 0)
        XCTAssertEqual(e[2], 0)
        XCTAssertEqual(e[3], 0)
        XCTAssertEqual(Double(e[4]), Double(Foundation.expf(-104)), accuracy: 1.5e-45)
        XCTAssertEqual(e[5], 1)
        XCTAssertEqual(Double(e[6]), M_E, accuracy: 3e-7)
        XCTAssertEqual(Double(e[7]) / Double(Foundation.expf(88.7)), 1, accuracy: 3e-7)
        XCTAssertEqual(e[8], .infinity)
        XCTAssertEqual(e[9], .infinity)
        XCTAssertEqual(e[10], .infinity)
        XCTAssertEqual(e[11], .infinity)
        XCTAssertTrue(e[12].isNaN)
        XCTAssertLessThan(Self.error(-87.5), 1e-6)
        XCTAssertLessThan(Self.error(-100), 1e-6)
        XCTAssertEqual(Double(e[15]) / Double(Foundation.expf(88.72)), 1, accuracy: 3e-7)
    }
}
