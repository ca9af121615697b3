import Foundation
import Stretch
import XCTest

/// A tiny random model stored in Q2_K, Q3_K, IQ4_NL and IQ4_XS against its float twin (the same weights
/// dequantized by the test-side reference reader and stored as F32): prefill (rows dequantized for the
/// GEMM) and float decode (tiled dot) must give the twin's logits up to float rounding; decode on `.auto`
/// (the integer kernels, activations rounded to 8 bits) must stay close to them.
final class QuantFormatModelTests: XCTestCase {
    var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "stretch-quant-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    /// Largest |a - b| over the largest |b|.
    func relative(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) }.max()! / max(b.map(abs).max()!, 1e-30)
    }

    func testQuantizedModelsMatchTheirFloatTwins() throws {
        let tokens = [1, 5, 9, 33, 60, 7, 200, 3]
        // Q4_K and Q8_0 (formats with long-standing kernels) as controls for the `.auto` tolerance.
        for type in QuantFixtureTests.types + [.q4_K, .q8_0] {
            let spec = TinyModel(vocab: 260, dim: 256, ffn: 512, heads: 4, kvHeads: 2, weightType: type, tiedOutput: false, seed: 4)
            var twinSpec = spec
            twinSpec.storeDequantized = true
            let path = directory + "/\(type).gguf", twinPath = directory + "/\(type)-f32.gguf"
            try spec.write(to: path)
            try twinSpec.write(to: twinPath)
            let twin = try LlamaModel(file: GGUFFile(path: twinPath), options: LoadOptions(threads: 2, precision: .f32))
            for precision in [ComputePrecision.f32, .auto] {
                // F32 KV cache on both paths, so the only difference left on `.auto` is the weight product.
                let options = LoadOptions(threads: 2, precision: precision, kvKeyType: .f32, kvValueType: .f32)
                let model = try LlamaModel(file: GGUFFile(path: path), options: options)
                // Float paths differ from the twin by summation order only; on `.auto` the integer kernels also
                // round each 32 activations to int8 (measured 0.5-4% of the largest logit through two layers,
                // the same for the Q4_K and Q8_0 controls).
                let bound: Float = precision == .f32 ? 1e-4 : 0.06
                // Prefill: rows dequantized to float for the GEMM, as in the twin (on `.auto` the last token's
                // output row still takes the integer kernel).
                let prefill = try model.forward(tokens, cache: try model.makeCache(maxTokens: 16))
                let twinPrefill = try twin.forward(tokens, cache: try twin.makeCache(maxTokens: 16))
                XCTAssertLessThan(relative(prefill, twinPrefill), bound, "\(type) \(precision) prefill")
                // Decode, one token at a time.
                let cache = try model.makeCache(maxTokens: 16), twinCache = try twin.makeCache(maxTokens: 16)
                var worst: Float = 0
                for t in tokens {
                    let a = try model.forward([t], cache: cache), b = try twin.forward([t], cache: twinCache)
                    XCTAssertTrue(a.allSatisfy(\.isFinite), "\(type) \(precision)")
                    worst = max(worst, relative(a, b))
                }
                XCTAssertLessThan(worst, bound, "\(type) \(precision) decode, worst relative logit error \(worst)")
                print("\(type) \(precision): prefill \(relative(prefill, twinPrefill)), decode worst \(worst) (relative logit difference to the F32 twin)")
            }
        }
    }
}
