import XCTest
import Stretch

/// Integer (Q8-activation) dot products vs the exact dot of the dequantized row with the dequantized
/// activations, on random raw blocks: the only error allowed is float rounding, not quantization.
final class IntegerDotTests: XCTestCase {
    func testIntegerDotMatchesDequantizedOperands() {
        var g = SplitMix64(seed: 7)
        for type in GGMLType.allCases where IntegerDot.supports(type) {
            // 9,216 columns: over the 8,192 whose per-call offsets fit the kernels' stack buffer.
            for count in [type.blockSize, 896, 4864, 9216].filter({ $0 % type.blockSize == 0 }) {
                for _ in 0..<5 {
                    let bytes = TestData.randomRow(type, count: count, &g)
                    let x = TestData.floats(count, -3...3, &g)
                    let w = TestData.dequantize(type, bytes, count: count)
                    let xq = Q8Activations(count: count)
                    defer { xq.deallocate() }
                    x.withUnsafeBufferPointer { xq.quantize($0.baseAddress!) }
                    var exact = 0.0, magnitude = 0.0
                    for i in 0..<count {
                        let xi = Double(xq.scales[i / 32]) * Double(xq.quants[i])
                        // Half a step, plus the float rounding of x · (127 / max) at a tie.
                        XCTAssertEqual(xi, Double(x[i]), accuracy: Double(xq.scales[i / 32]) * 0.5001 + 1e-7)
                        exact += Double(w[i]) * xi
                        magnitude += abs(Double(w[i]) * xi)
                    }
                    let got = bytes.withUnsafeBytes { IntegerDot.dot(type, $0.baseAddress!, xq) }
                    XCTAssertEqual(Double(got), exact, accuracy: 1e-5 * magnitude + 1e-30, "\(type) count \(count)")
                    // The C kernels at every level this CPU has (scalar, AVX2, VNNI), two rows per call.
                    TestData.forEachCLevel { level in
                        var y = [Float](repeating: .nan, count: 2)
                        let two = bytes + bytes
                        two.withUnsafeBytes { raw in
                            y.withUnsafeMutableBufferPointer {
                                IntegerDot.dotRows(type, raw.baseAddress!, rowBytes: bytes.count, rows: 2, xq, $0.baseAddress!)
                            }
                        }
                        for r in 0..<2 {
                            XCTAssertEqual(Double(y[r]), exact, accuracy: 1e-5 * magnitude + 1e-30,
                                           "C level \(level) \(type) count \(count) row \(r)")
                        }
                    }
                }
            }
        }
    }

    /// The several-activation kernel (batched decode) gives, for each activation, exactly the bits of the
    /// one-activation kernel at every C level, for 1 to 6 activations (a group of four plus a remainder).
    func testSeveralActivationsEqualOneAtATimeBitForBit() {
        var g = SplitMix64(seed: 11)
        // Also an odd number of blocks: the kernels that take blocks in pairs then run their tail; 19 blocks,
        // where the eight-block loops of Q8_0 and Q5_0 are followed by a pair and a single block; 28 (Qwen's
        // 896-wide rows: three groups of eight and one of four) and 13 (eight, four, one); 9,216 columns, past
        // the per-call offsets' stack buffer.
        let cases = GGMLType.allCases.filter(IntegerDot.supports).flatMap { type in
            [(type, 4864 % type.blockSize == 0 ? 4864 : type.blockSize), (type, 3 * type.blockSize),
             (type, 19 * type.blockSize), (type, 28 * type.blockSize), (type, 13 * type.blockSize), (type, 9216)]
        }
        for (type, count) in cases {
            let rows = 3
            let bytes = (0..<rows).flatMap { _ in TestData.randomRow(type, count: count, &g) }
            let rowBytes = bytes.count / rows
            for nx in 1...6 {
                // Activations with outliers, as at a sequence's first token.
                let xs = (0..<nx).map { i -> Q8Activations in
                    var x = TestData.floats(count, -3...3, &g)
                    x[i * 7 % count] = 150
                    let q = Q8Activations(count: count)
                    x.withUnsafeBufferPointer { q.quantize($0.baseAddress!) }
                    return q
                }
                defer { for q in xs { q.deallocate() } }
                TestData.forEachCLevel { level in
                    var single = [[Float]](repeating: [Float](repeating: .nan, count: rows), count: nx)
                    var multi = single
                    bytes.withUnsafeBytes { raw in
                        for i in 0..<nx {
                            single[i].withUnsafeMutableBufferPointer {
                                IntegerDot.dotRows(type, raw.baseAddress!, rowBytes: rowBytes, rows: rows, xs[i], $0.baseAddress!)
                            }
                        }
                        let outputs = UnsafeMutablePointer<UnsafeMutablePointer<Float>?>.allocate(capacity: nx)
                        let storage = UnsafeMutablePointer<Float>.allocate(capacity: nx * rows)
                        defer {
                            outputs.deallocate()
                            storage.deallocate()
                        }
                        for i in 0..<nx { outputs[i] = storage + i * rows }
                        let views = xs.map(IntegerDot.cView)
                        views.withUnsafeBufferPointer {
                            // As the engine calls it: the activations laid out once for all rows.
                            let prepared = IntegerDot.PreparedActivations($0, columns: count)
                            defer { prepared.deallocate() }
                            IntegerDot.dotRows(type, raw.baseAddress!, rowBytes: rowBytes, rows: rows, $0.baseAddress!,
                                               count: nx, prepared: prepared, outputs)
                        }
                        for i in 0..<nx { multi[i] = Array(UnsafeBufferPointer(start: storage + i * rows, count: rows)) }
                    }
                    for i in 0..<nx {
                        XCTAssertEqual(multi[i].map(\.bitPattern), single[i].map(\.bitPattern),
                                       "C level \(level) \(type) activation \(i) of \(nx)")
                    }
                }
            }
        }
    }

    /// Activation quantization gives the same bytes, scales and sums at every C level (scalar and
    /// AVX-512), including an all-zero block, exact ties (x · 127/max = k + 0.5) and huge outliers.
    func testQuantizationIsTheSameAtEveryLevel() {
        var g = SplitMix64(seed: 9)
        var x = TestData.floats(4864, -3...3, &g)
        for i in 0..<32 { x[i] = 0 }  // zero block
        x[32] = 127; x[33] = 0.5; x[34] = 1.5; x[35] = -2.5  // ties at scale 1
        x[100] = 5000  // a massive activation
        let saved = IntegerDot.cLevel
        defer { IntegerDot.cLevel = saved }
        func quantized(_ level: Int) -> ([Int8], [Float], [Float], [Int32]) {
            IntegerDot.cLevel = level
            let q = Q8Activations(count: x.count)
            defer { q.deallocate() }
            x.withUnsafeBufferPointer { q.quantize($0.baseAddress!) }
            return (Array(UnsafeBufferPointer(start: q.quants, count: x.count)),
                    Array(UnsafeBufferPointer(start: q.scales, count: x.count / 32)),
                    Array(UnsafeBufferPointer(start: q.sums, count: x.count / 32)),
                    Array(UnsafeBufferPointer(start: q.sums16, count: x.count / 16)))
        }
        let reference = quantized(0)
        XCTAssertEqual(Array(reference.0[32..<36]), [127, 0, 2, -2], "round half to even")
        XCTAssertEqual(reference.1[0], 0)
        for level in TestData.cLevels {
            let got = quantized(level)
            XCTAssertEqual(got.0, reference.0, "level \(level) quants")
            XCTAssertEqual(got.1, reference.1, "level \(level) scales")
            XCTAssertEqual(got.2, reference.2, "level \(level) sums")
            XCTAssertEqual(got.3, reference.3, "level \(level) sums16")
        }
    }
}
