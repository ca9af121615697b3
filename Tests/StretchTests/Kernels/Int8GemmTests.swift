import Foundation
import Stretch
import StretchKernelsC
import XCTest

/// The int8 prefill product (`stretch_gemm_q8`) at every C level this CPU has, against the exact
/// double-precision product of the dequantized weights with the dequantized Q8 activations: the only
/// error allowed is float rounding, not quantization. Random blocks with shapes that hit every remainder
/// (partial 16-row panels, token counts around the 8-token group, a partial second 1,024-column pass), then
/// every row of every tensor of the Qwen and Gemma files that the kernel serves.
final class Int8GemmTests: XCTestCase {
    static let types: [GGMLType] = [.q8_0, .q5_0, .q4_K, .q6_K]

    /// Checks rows `0, rowStep, 2·rowStep, …` of `rows × columns` weights of `type` at `w` (row `r` dequantized
    /// by `dequantize(r)`) against `tokens` activations `x`, at every level that serves the format; outputs
    /// past `rows` must stay untouched. Returns the worst |error| / Σ|w·x|.
    func check(_ type: GGMLType, _ w: UnsafeRawPointer, rows: Int, columns: Int, x: [Float], tokens: Int,
               rowStep: Int = 1, label: String, dequantize: (Int) -> [Float]) -> Double {
        let xq = Q8Activations(count: tokens * columns)
        defer { xq.deallocate() }
        x.withUnsafeBufferPointer { xq.quantize($0.baseAddress!) }
        let xd = (0..<(tokens * columns)).map { Double(xq.scales[$0 / 32]) * Double(xq.quants[$0]) }
        let prepared = x.withUnsafeBufferPointer {
            Int8Gemm.Activations($0.baseAddress!, tokens: tokens, columns: columns)
        }
        defer { prepared.deallocate() }
        let kind = IntegerDot.cKind(type)!
        let ldy = rows + 3
        var ys: [(Int, [Float])] = []
        TestData.forEachCLevel { level in
            guard stretch_gemm_q8_supports(kind) != 0 else {
                // Only Q8_0 on AVX2 is left to the float GEMM (its unsigned bytes could saturate vpmaddubsw).
                XCTAssertTrue(level == 1 && type == .q8_0, "\(type) not served at level \(level)")
                return
            }
            var y = [Float](repeating: .nan, count: tokens * ldy)
            let scratch = UnsafeMutableRawPointer.allocate(
                byteCount: stretch_gemm_q8_scratch_bytes(columns), alignment: 64)
            defer { scratch.deallocate() }
            y.withUnsafeMutableBufferPointer {
                stretch_gemm_q8(kind, w, type.rowBytes(columns), rows, prepared.prepared, columns, tokens,
                                $0.baseAddress!, ldy, scratch)
            }
            ys.append((level, y))
        }
        var worst = 0.0
        for r in stride(from: 0, to: rows, by: rowStep) {
            let row = dequantize(r)
            for t in 0..<tokens {
                var exact = 0.0, magnitude = 0.0
                for k in 0..<columns {
                    let p = Double(row[k]) * xd[t * columns + k]
                    exact += p
                    magnitude += abs(p)
                }
                for (level, y) in ys {
                    let got = Double(y[t * ldy + r])
                    worst = max(worst, abs(got - exact) / max(magnitude, 1e-30))
                    XCTAssertEqual(got, exact, accuracy: 1e-5 * magnitude + 1e-30,
                                   "\(label) level \(level) t \(t) r \(r)")
                }
            }
        }
        for (level, y) in ys {
            for t in 0..<tokens {
                for r in rows..<ldy {
                    XCTAssertTrue(y[t * ldy + r].isNaN, "\(label) level \(level): wrote past the rows, t \(t)")
                }
            }
        }
        return worst
    }

    func testRandomBlocksEveryShape() {
        var g = SplitMix64(seed: 31)
        for type in Self.types {
            // One pass, a pass plus a partial one (1,056 = 33 blocks; 1,280 = 5 K-quant super-blocks).
            let columnCounts = type.blockSize == 256 ? [256, 1280] : [32, 96, 1056]
            for columns in columnCounts {
                for rows in [1, 5, 16, 17, 37] {
                    for tokens in [1, 4, 7, 8, 9, 21] {
                        let bytes = (0..<rows).flatMap { _ in TestData.randomRow(type, count: columns, &g) }
                        var x = TestData.floats(tokens * columns, -3...3, &g)
                        for k in stride(from: 0, to: x.count, by: 53) { x[k] *= 30 }  // outliers, as at position 0
                        let rowBytes = type.rowBytes(columns)
                        _ = bytes.withUnsafeBytes { raw in
                            check(type, raw.baseAddress!, rows: rows, columns: columns, x: x, tokens: tokens,
                                  label: "\(type) \(rows)×\(columns), \(tokens) tokens") { r in
                                let row = Array(bytes[(r * rowBytes)..<((r + 1) * rowBytes)])
                                return TestData.dequantize(type, row, count: columns)
                            }
                        }
                    }
                }
            }
        }
    }

    func testEveryRowOfTheRealTensors() throws {
        var g = SplitMix64(seed: 13)
        var worst: [String: Double] = [:]
        var checked = 0
        for path in [try TestFiles.qwen, try TestFiles.gemma] {
            let gguf = try GGUFFile(path: path)
            for t in gguf.tensors where Self.types.contains(t.type) && t.dims.count == 2 {
                let w = WeightMatrix(file: gguf, tensor: t)
                let tokens = 5  // a partial group of 8 (whole groups and other remainders: the test above)
                var x = TestData.floats(tokens * w.columns, -1...1, &g)
                for k in stride(from: 0, to: x.count, by: 97) { x[k] *= 40 }
                // The output matrices have 151,936 and 262,144 rows: every 7th keeps the test short.
                let step = w.rows > 20_000 ? 7 : 1
                var row = [Float](repeating: 0, count: w.columns)
                let e = check(t.type, w.data, rows: w.rows, columns: w.columns, x: x, tokens: tokens, rowStep: step,
                              label: t.name) { r in
                    row.withUnsafeMutableBufferPointer { w.dequantizeRow(r, into: $0.baseAddress!) }
                    return row
                }
                worst["\(t.type)", default: 0] = max(worst["\(t.type)", default: 0], e)
                checked += (w.rows + step - 1) / step
            }
        }
        print("Int8GemmTests: \(checked) rows × 5 tokens, worst |error| / Σ|w·x| per format: \(worst)")
        XCTAssertGreaterThan(checked, 300_000)
    }
}
