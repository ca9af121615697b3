import Foundation
import Stretch
import XCTest

/// Q2_K, Q3_K, IQ4_NL and IQ4_XS against the `gguf` package's numpy dequantizers: real-layout random
/// blocks and the floats numpy makes of them (`scripts/quant_fixtures.py`, committed in `Fixtures/`).
/// Dequantization must be bit-exact; every dot product path (fused/tiled float, integer Swift entry, C
/// kernels at every ISA level, several activations at once) must agree with dequantize-then-dot.
final class QuantFixtureTests: XCTestCase {
    static let types: [GGMLType] = [.q2_K, .q3_K, .iq4_nl, .iq4_xs]
    static let rows = 4, rowLength = 1536

    static func fixture(_ type: GGMLType) throws -> (bytes: [UInt8], floats: [Float]) {
        let base = TestFiles.repositoryRoot.appendingPathComponent("Tests/StretchTests/Tensors/Fixtures")
            .appendingPathComponent(type.description.lowercased()).path
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: base + ".bin")))
        let floats = try TestFiles.floats(base + ".f32")
        XCTAssertEqual(bytes.count, rows * type.rowBytes(rowLength), "\(type) fixture size")
        XCTAssertEqual(floats.count, rows * rowLength, "\(type) fixture size")
        return (bytes, floats)
    }

    func testDequantizeIsBitExactWithNumpy() throws {
        for type in Self.types {
            let (bytes, expected) = try Self.fixture(type)
            let rowBytes = type.rowBytes(Self.rowLength)
            for r in 0..<Self.rows {
                let row = Array(bytes[(r * rowBytes)..<((r + 1) * rowBytes)])
                let want = Array(expected[(r * Self.rowLength)..<((r + 1) * Self.rowLength)])
                // Every C level too: IQ4 dequantizes in C (scalar or AVX2 byte shuffle).
                TestData.forEachCLevel { level in
                    let got = TestData.dequantize(type, row, count: Self.rowLength)
                    let bad = (0..<Self.rowLength).first { got[$0].bitPattern != want[$0].bitPattern }
                    XCTAssertNil(bad, "\(type) row \(r) C level \(level) element \(bad ?? -1): numpy \(bad.map { want[$0] } ?? 0), "
                                 + "got \(bad.map { got[$0] } ?? 0)")
                }
                // The test-side byte-by-byte reader agrees too (it checks the random-block tests' oracle).
                XCTAssertEqual(ReferenceDequantizer.row(type, row, count: Self.rowLength).map(\.bitPattern), want.map(\.bitPattern),
                               "\(type) row \(r): reference dequantizer")
            }
        }
    }

    func testEveryDotPathMatchesDequantizeThenDot() throws {
        var g = SplitMix64(seed: 31)
        for type in Self.types {
            let (bytes, w) = try Self.fixture(type)
            let rowBytes = type.rowBytes(Self.rowLength)
            let n = Self.rowLength
            // Activations with one outlier, as at a sequence's first token.
            var x = TestData.floats(n, -2...2, &g)
            x[5] = 90
            let xq = Q8Activations(count: n)
            defer { xq.deallocate() }
            x.withUnsafeBufferPointer { xq.quantize($0.baseAddress!) }
            let xDequantized = (0..<n).map { Double(xq.scales[$0 / 32]) * Double(xq.quants[$0]) }
            var cRows = [[Float]]()
            TestData.forEachCLevel { level in
                var y = [Float](repeating: .nan, count: Self.rows)
                bytes.withUnsafeBytes { raw in
                    y.withUnsafeMutableBufferPointer {
                        IntegerDot.dotRows(type, raw.baseAddress!, rowBytes: rowBytes, rows: Self.rows, xq, $0.baseAddress!)
                    }
                }
                cRows.append(y)
            }
            for r in 0..<Self.rows {
                let row = Array(bytes[(r * rowBytes)..<((r + 1) * rowBytes)])
                let wr = w[(r * n)..<((r + 1) * n)]
                var exact = 0.0, magnitude = 0.0, exactQ = 0.0, magnitudeQ = 0.0
                for (i, wi) in zip(0..<n, wr) {
                    exact += Double(wi) * Double(x[i]); magnitude += abs(Double(wi) * Double(x[i]))
                    exactQ += Double(wi) * xDequantized[i]; magnitudeQ += abs(Double(wi) * xDequantized[i])
                }
                for strategy in QuantizedDot.Strategy.allCases {
                    let got = TestData.dot(type, row, x, strategy: strategy)
                    XCTAssertEqual(Double(got), exact, accuracy: 1e-5 * magnitude, "\(type) row \(r) float dot \(strategy)")
                }
                let swiftEntry = row.withUnsafeBytes { IntegerDot.dot(type, $0.baseAddress!, xq) }
                XCTAssertEqual(Double(swiftEntry), exactQ, accuracy: 1e-5 * magnitudeQ, "\(type) row \(r) integer dot")
                for (level, y) in cRows.enumerated() {
                    XCTAssertEqual(Double(y[r]), exactQ, accuracy: 1e-5 * magnitudeQ, "\(type) row \(r) C level \(level)")
                }
            }
        }
    }

    /// The portable scalar C kernel and the vector ones (AVX2, VNNI where the CPU has them) agree on every
    /// row of real-layout blocks, with activations spanning many 256-blocks.
    func testCKernelLevelsAgree() throws {
        var g = SplitMix64(seed: 5)
        for type in Self.types {
            let count = 4096
            let rows = 8
            let bytes = (0..<rows).flatMap { _ in TestData.randomRow(type, count: count, &g) }
            let x = TestData.floats(count, -3...3, &g)
            let xq = Q8Activations(count: count)
            defer { xq.deallocate() }
            x.withUnsafeBufferPointer { xq.quantize($0.baseAddress!) }
            var results = [[Float]]()
            TestData.forEachCLevel { _ in
                var y = [Float](repeating: .nan, count: rows)
                bytes.withUnsafeBytes { raw in
                    y.withUnsafeMutableBufferPointer {
                        IntegerDot.dotRows(type, raw.baseAddress!, rowBytes: type.rowBytes(count), rows: rows, xq, $0.baseAddress!)
                    }
                }
                results.append(y)
            }
            XCTAssertGreaterThan(results.count, 0)
            let rowBytes = type.rowBytes(count)
            for r in 0..<rows {
                let w = ReferenceDequantizer.row(type, Array(bytes[(r * rowBytes)..<((r + 1) * rowBytes)]), count: count)
                let magnitude = (0..<count).reduce(0.0) { $0 + abs(Double(w[$1]) * Double(xq.scales[$1 / 32]) * Double(xq.quants[$1])) }
                for (level, y) in results.enumerated().dropFirst() {
                    XCTAssertEqual(Double(y[r]), Double(results[0][r]), accuracy: 1e-5 * magnitude,
                                   "\(type) row \(r): C level \(level) vs scalar")
                }
            }
        }
    }
}
