import Foundation
import XCTest
import Stretch

/// The integer (Q8-activation) kernels, Swift and C at every level this CPU has, on every row of every
/// integer-kernel tensor of the Qwen GGUF, against the exact double-precision dot of the dequantized row
/// with the dequantized activations. Random blocks (IntegerDotTests) cannot show a case that only real
/// weights hit; this walks them all.
final class RealIntegerDotTests: XCTestCase {
    func testIntegerKernelsOnEveryQwenRow() throws {
        let gguf = try GGUFFile(path: TestFiles.qwen)
        var g = SplitMix64(seed: 11)
        let levels = TestData.cLevels
        var worst: [String: Double] = [:]
        var checked = 0
        for t in gguf.tensors where IntegerDot.supports(t.type) && t.dims.count == 2 {
            let w = WeightMatrix(file: gguf, tensor: t)
            // Activations shaped like real ones: mostly small, a few large outliers.
            var x = TestData.floats(w.columns, -1...1, &g)
            for k in stride(from: 0, to: w.columns, by: 97) { x[k] *= 40 }
            let xq = Q8Activations(count: w.columns)
            defer { xq.deallocate() }
            x.withUnsafeBufferPointer { xq.quantize($0.baseAddress!) }
            var xd = [Double](repeating: 0, count: w.columns)
            for i in 0..<w.columns { xd[i] = Double(xq.scales[i / 32]) * Double(xq.quants[i]) }
            // The output matrix has 151,936 rows: every 7th keeps the test short.
            let rows = Array(stride(from: 0, to: w.rows, by: w.rows > 20_000 ? 7 : 1))
            var ys: [[Float]] = []
            TestData.forEachCLevel { _ in
                var y = [Float](repeating: .nan, count: w.rows)
                y.withUnsafeMutableBufferPointer { IntegerDot.dotRows(w.type, w.data, rowBytes: w.rowBytes, rows: w.rows, xq, $0.baseAddress!) }
                ys.append(y)
            }
            var row = [Float](repeating: 0, count: w.columns)
            var maxRel = 0.0
            for r in rows {
                row.withUnsafeMutableBufferPointer { w.dequantizeRow(r, into: $0.baseAddress!) }
                var exact = 0.0, magnitude = 0.0
                for i in 0..<w.columns { exact += Double(row[i]) * xd[i]; magnitude += abs(Double(row[i]) * xd[i]) }
                let swift = Double(IntegerDot.dot(w.type, w.row(r), xq))
                maxRel = max(maxRel, abs(swift - exact) / magnitude)
                XCTAssertEqual(swift, exact, accuracy: 1e-5 * magnitude, "Swift \(t.name) row \(r)")
                for level in levels {
                    let c = Double(ys[level][r])
                    maxRel = max(maxRel, abs(c - exact) / magnitude)
                    XCTAssertEqual(c, exact, accuracy: 1e-5 * magnitude, "C level \(level) \(t.name) row \(r)")
                }
                checked += 1
            }
            worst["\(t.type)", default: 0] = max(worst["\(t.type)", default: 0], maxRel)
        }
        print("RealIntegerDotTests: \(checked) rows, worst |error| / Σ|w·x| per format: \(worst)")
        XCTAssertGreaterThan(checked, 100_000)
    }
}
