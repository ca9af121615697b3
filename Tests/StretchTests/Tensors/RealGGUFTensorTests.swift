import Foundation
import XCTest
import Stretch

/// Reads real tensors from a llama.cpp-produced GGUF (Qwen2.5-Coder 0.5B Q4_K_M: F32, Q5_0, Q8_0, Q4_K,
/// Q6_K) and checks the optimized paths against the reference dequantizer and basic sanity (finite,
/// plausible magnitudes).
final class RealGGUFTensorTests: XCTestCase {
    func testRealTensorsMatchReference() throws {
        let gguf = try GGUFFile(path: TestFiles.qwen)
        func rowBytes(_ t: GGUFTensorInfo, _ r: Int) -> [UInt8] {
            let n = t.type.rowBytes(t.rowLength)
            return [UInt8](UnsafeRawBufferPointer(start: gguf.data(of: t) + r * n, count: n))
        }
        XCTAssertFalse(gguf.tensors.isEmpty)
        var seen: [GGMLType: Int] = [:]
        var g = SplitMix64(seed: 4)
        for t in gguf.tensors {
            let type = t.type
            guard seen[type, default: 0] < 3 else { continue }  // a few tensors per type keeps it quick
            seen[type, default: 0] += 1
            let cols = t.dims[0], nRows = t.dims.dropFirst().reduce(1, *)
            XCTAssertEqual(cols % type.blockSize, 0)
            for r in [0, nRows / 2, nRows - 1] {
                let bytes = rowBytes(t, r)
                let expected = ReferenceDequantizer.row(type, bytes, count: cols)
                let got = TestData.dequantize(type, bytes, count: cols)
                XCTAssertEqual(got, expected, "\(t.name) row \(r)")
                XCTAssertTrue(got.allSatisfy(\.isFinite), "\(t.name) has non-finite values")
                let rms = (got.reduce(0) { $0 + Double($1) * Double($1) } / Double(cols)).squareRoot()
                XCTAssertTrue(rms > 1e-4 && rms < 50, "\(t.name) row \(r) implausible rms \(rms)")
                let x = TestData.floats(cols, -1...1, &g)
                var exact = 0.0, magnitude = 0.0
                for i in 0..<cols { exact += Double(got[i]) * Double(x[i]); magnitude += abs(Double(got[i]) * Double(x[i])) }
                XCTAssertEqual(Double(TestData.dot(type, bytes, x)), exact, accuracy: 1e-5 * magnitude, "\(t.name) dot")
            }
        }
        // The file is known to contain these formats.
        for type in [GGMLType.f32, .q5_0, .q8_0, .q4_K, .q6_K] { XCTAssertNotNil(seen[type], "no \(type) tensor found") }
        // Known shape: Qwen2.5 0.5B has hidden size 896 and a 151936-token vocabulary.
        let embd = gguf.tensors.first { $0.name == "token_embd.weight" }
        XCTAssertEqual(embd?.dims, [896, 151936])
    }
}
