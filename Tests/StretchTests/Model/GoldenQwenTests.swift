import Foundation
import Stretch
import XCTest

/// Qwen2.5-Coder-0.5B-Instruct (Q4_K_M) against the float32 reference in ../shared/golden/qwen2.5-coder-0.5b.
///
/// The reference ran plain transformers attention in float32 on weights dequantized from this GGUF.
final class GoldenQwenTests: XCTestCase {
    struct Result {
        let meanAbsNLL: Double
        let minPearson: Double
        let argmaxMatches: Int
        let p99AbsNLL: Double
        let maxAbsNLL: Double
    }

    /// Scores the golden tokens once and compares NLL, logits and argmax with the reference.
    ///
    /// Each reference position is run as its own one-token chunk, so its logits come from the decode
    /// (matrix-vector) path while the rest goes through the batched prefill path: both are checked.
    func compare(precision: ComputePrecision, config: String = "baseline", positions map: PositionMap = PlainPositions()) throws -> Result {
        let dir = "golden/qwen2.5-coder-0.5b/"
        let tokens = (try TestFiles.json(TestFiles.shared(dir + "tokens.json"))["token_ids"] as! [Any]).map { ($0 as! NSNumber).intValue }
        let ref = try TestFiles.json(TestFiles.shared(dir + config + ".json"))
        let refNLL = (ref["nll"] as! [Any]).map { ($0 as! NSNumber).doubleValue }
        let positions = (ref["positions"] as! [Any]).map { ($0 as! NSNumber).intValue }
        let argmax = (ref["argmax_at_positions"] as! [Any]).map { ($0 as! NSNumber).intValue }
        let refLogits = try TestFiles.floats(TestFiles.shared(dir + config + ".logits.f32"))
        let model = try LlamaModel(file: GGUFFile(path: TestFiles.qwen), options: LoadOptions(precision: precision))
        let vocab = model.config.vocabularySize
        XCTAssertEqual(refLogits.count, positions.count * vocab)

        // One pass: NLL for every token, and the logits rows at the reference positions.
        let cache = try model.makeCache(maxTokens: tokens.count, positions: map)
        var nll: [Double] = []
        var rows: [Int: [Float]] = [:]
        var done = 0
        while done < tokens.count {
            let nextPosition = positions.first { $0 >= done } ?? tokens.count
            let n = nextPosition == done ? 1 : min(model.batchSize, tokens.count - done, nextPosition - done)
            let logits = try model.forward(Array(tokens[done..<(done + n)]), cache: cache, logits: .all)
            logits.withUnsafeBufferPointer { buf in
                for t in 0..<n {
                    let p = done + t
                    let row = buf.baseAddress! + t * vocab
                    if p + 1 < tokens.count { nll.append(VectorOps.logSumExp(row, vocab) - Double(row[tokens[p + 1]])) }
                    if positions.contains(p) { rows[p] = Array(UnsafeBufferPointer(start: row, count: vocab)) }
                }
            }
            done += n
        }
        XCTAssertEqual(nll.count, refNLL.count)
        let diffs = zip(nll, refNLL).map { abs($0 - $1) }
        let mad = diffs.reduce(0, +) / Double(nll.count)
        let sorted = diffs.sorted()
        var minPearson = 1.0
        var matches = 0
        for (k, p) in positions.enumerated() {
            let ours = rows[p]!.map(Double.init)
            let theirs = refLogits[(k * vocab)..<((k + 1) * vocab)].map(Double.init)
            minPearson = min(minPearson, Self.pearson(ours, theirs))
            if ours.indices.max(by: { ours[$0] < ours[$1] }) == argmax[k] { matches += 1 }
        }
        let p99 = sorted[sorted.count * 99 / 100], worst = sorted.last ?? 0
        print("qwen \(precision.rawValue) \(config): mean |ΔNLL| \(mad), p99 \(p99), max \(worst), min Pearson \(minPearson), "
            + "argmax \(matches)/\(positions.count)")
        return Result(meanAbsNLL: mad, minPearson: minPearson, argmaxMatches: matches, p99AbsNLL: p99, maxAbsNLL: worst)
    }

    static func pearson(_ a: [Double], _ b: [Double]) -> Double {
        let n = Double(a.count)
        let ma = a.reduce(0, +) / n, mb = b.reduce(0, +) / n
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for i in a.indices {
            let x = a[i] - ma, y = b[i] - mb
            sab += x * y
            saa += x * x
            sbb += y * y
        }
        return sab / (saa * sbb).squareRoot()
    }

    /// Reference precision (`--precision f32`): weights dequantized, float32 activations, accumulation and KV.
    func testReferencePrecisionMatchesReference() throws {
        let r = try compare(precision: .f32)
        XCTAssertLessThan(r.meanAbsNLL, 2e-3, "f32 mode: mean |ΔNLL|")
        XCTAssertEqual(r.argmaxMatches, 8, "same argmax at all 8 positions")
    }

    /// Fast path (`--precision auto`): F16 KV cache, Q8 activations and integer dot products in decode,
    /// held to the bar llama.cpp itself meets against this reference (0.039 / 0.9986).
    func testFastPathMatchesReference() throws {
        let r = try compare(precision: .auto)
        XCTAssertLessThanOrEqual(r.meanAbsNLL, 0.05, "fast path: mean |ΔNLL|")
        XCTAssertGreaterThanOrEqual(r.minPearson, 0.998, "fast path: logits Pearson")
    }

    /// Dual Chunk Attention (C=1024, local 128; no temperature within Qwen's 32k) against the official
    /// ChunkQwen code (../shared/golden/DCA.md), keeping GQA; per token as well as on the mean.
    func testDualChunkC1024L128MatchesOfficialCode() throws {
        let map = try PositionSpec.parse("dca:chunk_size=1024:local_size=128", trainedContext: 32768)
        let r = try compare(precision: .f32, config: "dca_c1024_l128", positions: map)
        XCTAssertLessThan(r.meanAbsNLL, 1e-3, "f32 mode: mean |ΔNLL|")
        XCTAssertLessThan(r.p99AbsNLL, 2e-4, "f32 mode: 99th percentile per-token |ΔNLL|")
        XCTAssertLessThan(r.maxAbsNLL, 1e-3, "f32 mode: largest per-token |ΔNLL|")
        XCTAssertEqual(r.argmaxMatches, 8, "same argmax at all 8 positions")
    }
}
