import Foundation
import Stretch
import XCTest

/// The vectorized SwiGLU and GeGLU against the definitions evaluated in double precision, over ordinary
/// values, extremes (where exp overflows or underflows) and lengths that leave a scalar tail.
final class GatedActivationTests: XCTestCase {
    func inputs() -> ([Float], [Float]) {
        var g = SplitMix64(seed: 5)
        var gate = TestData.floats(1000, -8...8, &g)
        gate += [0, -0.0, 1e-30, -1e-30, 30, -30, 88, -88, 100, -100, 1e4, -1e4, 1e30, -1e30]
        let up = TestData.floats(gate.count, -2...2, &g)
        return (gate, up)
    }

    func check(_ name: String, _ f: (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int) -> Void,
               _ reference: (Double) -> Double) {
        let (gate, up) = inputs()
        for n in [gate.count, 17, 16, 5] {
            var out = Array(gate.prefix(n))
            up.withUnsafeBufferPointer { u in out.withUnsafeMutableBufferPointer { f($0.baseAddress!, u.baseAddress!, n) } }
            for i in 0..<n {
                let expected = reference(Double(gate[i])) * Double(up[i])
                XCTAssertFalse(out[i].isNaN, "\(name) NaN at \(gate[i])")
                XCTAssertEqual(Double(out[i]), expected, accuracy: 2e-6 * abs(expected) + 1e-6, "\(name)(\(gate[i]))")
            }
        }
    }

    func testSwiGLU() {
        check("swiGLU", VectorOps.swiGLU) { g in g / (1 + Foundation.exp(-g)) }
    }

    func testGeGLU() {
        check("geGLU", VectorOps.geGLU) { g in
            0.5 * g * (1 + Foundation.tanh(0.7978845608028654 * (g + 0.044715 * g * g * g)))
        }
    }
}
