import Foundation
import Stretch
import StretchEvaluation
import XCTest

/// stories260K (trained at L=512) far past its trained context: SELF_EXTEND.md §5.7 on a real model.
final class LongContextTests: XCTestCase {
    func stories() throws -> (LlamaModel, [Int]) {
        let gguf = try GGUFFile(path: TestFiles.stories260K)
        let model = try LlamaModel(file: gguf)
        let text = try String(contentsOfFile: TestFiles.shared("data/text/tinystories_validation_head.txt"), encoding: .utf8)
        let tokens = Array(try Tokenizer(gguf: gguf).encode(text, addSpecial: true).prefix(4096))
        XCTAssertEqual(tokens.count, 4096)
        return (model, tokens)
    }

    /// Mean NLL of each 512-token bucket of predictions (bucket b covers predicted tokens b·512+1 …).
    func buckets(_ nll: [Double], size: Int = 512) -> [Double] {
        stride(from: 0, to: nll.count, by: size).map { s in
            let part = nll[s..<min(nll.count, s + size)]
            return part.reduce(0, +) / Double(part.count)
        }
    }

    /// Self-Extend G=16, W=256 stays flat over 4,096 tokens while plain attention blows up, and its
    /// perplexity over all 4,096 positions equals an independent exact implementation's 3.71 within 1%
    /// (plain attention: 32.9; llama.cpp's block-wise approximation: 4.14).
    func testSelfExtendStaysFlatAndMatchesExactPerplexity() throws {
        let (model, tokens) = try stories()
        let se = try TokenScorer.score(model: model, tokens: tokens, positions: SelfExtendPositions(groupSize: 16, window: 256))
        let plain = try TokenScorer.score(model: model, tokens: tokens, positions: PlainPositions())
        let seBuckets = buckets(se), plainBuckets = buckets(plain)
        let sePPL = exp(se.reduce(0, +) / Double(se.count))
        let plainPPL = exp(plain.reduce(0, +) / Double(plain.count))
        print("self-extend G=16 W=256 buckets \(seBuckets.map { String(format: "%.3f", $0) }) PPL \(sePPL)")
        print("plain buckets \(plainBuckets.map { String(format: "%.3f", $0) }) PPL \(plainPPL)")
        for (b, m) in seBuckets.enumerated() {
            XCTAssertLessThanOrEqual(abs(m - seBuckets[0]) / seBuckets[0], 0.10, "self-extend bucket \(b) drifts")
        }
        XCTAssertGreaterThan(plainBuckets.max()!, 1.5 * plainBuckets[0], "plain attention should blow up past L")
        XCTAssertEqual(sePPL, 3.71, accuracy: 0.01 * 3.71)
        XCTAssertEqual(plainPPL, 32.9, accuracy: 0.01 * 32.9)
    }

    /// Chunked prefill and token-by-token decode give the one-shot logits on the real model (float32 KV;
    /// with F16 storage, rounding of slightly different float32 sums can flip a half-precision ulp).
    func testChunkedAndDecodeEqualOneShotOnTheModel() throws {
        let (loaded, all) = try stories()
        let oneShotModel = try LlamaModel(file: loaded.file, options: LoadOptions(batchSize: 700, precision: .f32))
        let model = try LlamaModel(file: loaded.file, options: LoadOptions(batchSize: 37, precision: .f32))
        let tokens = Array(all.prefix(700))
        let map = try SelfExtendPositions(groupSize: 4, window: 100)
        let vocab = model.config.vocabularySize
        let oneShot = try oneShotModel.forward(
            tokens, cache: try oneShotModel.makeCache(maxTokens: 700, positions: map), logits: .all)
        let cache = try model.makeCache(maxTokens: 700, positions: map)
        let chunked = try model.forward(Array(tokens.prefix(650)), cache: cache, logits: .all)
        var decoded: [Float] = []
        for t in tokens[650...] { decoded += try model.forward([t], cache: cache, logits: .all) }
        let joined = chunked + decoded
        XCTAssertEqual(joined.count, 700 * vocab)
        XCTAssertLessThan(zip(joined, oneShot).map { abs($0 - $1) }.max()!, 1e-4)
    }
}
