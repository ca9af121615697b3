import Foundation
import Stretch
import StretchEvaluation
import XCTest

/// stories260K against the independent float32 references in ../shared/golden/stories260K.
final class GoldenStories260KTests: XCTestCase {
    /// Compares per-token NLL (mean |Δ| below `tolerance`, and each token below `perToken` when given),
    /// then argmax and logits at the reference positions.
    func check(config: String, positions: PositionMap, tolerance: Double, perToken: Double? = nil) throws {
        let dir = "golden/stories260K/"
        let tokens = (try TestFiles.json(TestFiles.shared(dir + "tokens.json"))["token_ids"] as! [Any]).map { ($0 as! NSNumber).intValue }
        let ref = try TestFiles.json(TestFiles.shared(dir + config + ".json"))
        let refNLL = (ref["nll"] as! [Any]).map { ($0 as! NSNumber).doubleValue }
        // The bar is for --precision f32 (float32 KV cache too).
        let model = try LlamaModel(file: GGUFFile(path: TestFiles.stories260K), options: LoadOptions(precision: .f32))
        let nll = try TokenScorer.score(model: model, tokens: tokens, positions: positions)
        XCTAssertEqual(nll.count, refNLL.count)
        let mad = zip(nll, refNLL).map { abs($0 - $1) }.reduce(0, +) / Double(nll.count)
        let worst = zip(nll, refNLL).map { abs($0 - $1) }.max() ?? 0
        print("stories260K \(config): mean |ΔNLL| = \(mad), max \(worst), mean NLL \(nll.reduce(0, +) / Double(nll.count))")
        XCTAssertLessThan(mad, tolerance)
        if let perToken { XCTAssertLessThan(worst, perToken, "largest per-token |ΔNLL|") }
        // Same argmax at the reference positions, and logits close.
        let positionsList = (ref["positions"] as! [Any]).map { ($0 as! NSNumber).intValue }
        let argmax = (ref["argmax_at_positions"] as! [Any]).map { ($0 as! NSNumber).intValue }
        let refLogits = try TestFiles.floats(TestFiles.shared(dir + config + ".logits.f32"))
        let vocab = model.config.vocabularySize
        let cache = try model.makeCache(maxTokens: tokens.count, positions: positions)
        let all = try model.forward(tokens, cache: cache, logits: .all)
        for (k, p) in positionsList.enumerated() {
            let row = Array(all[(p * vocab)..<((p + 1) * vocab)])
            XCTAssertEqual(row.indices.max(by: { row[$0] < row[$1] }), argmax[k], "argmax at position \(p)")
            let maxDiff = zip(row, refLogits[(k * vocab)..<((k + 1) * vocab)]).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(maxDiff, 2e-3, "logits at position \(p)")
        }
    }

    func testBaselineNLLMatchesReference() throws {
        try check(config: "baseline", positions: PlainPositions(), tolerance: 1e-3)
    }

    func testSelfExtendG4W128MatchesOfficialCode() throws {
        try check(config: "se_g4_w128", positions: SelfExtendPositions(groupSize: 4, window: 128), tolerance: 1e-3)
    }

    /// Dual Chunk Attention with ChunkLlama's defaults for L=512 (C=384, local 64) and the temperature
    /// mscale(1500/512)² of a 1,500-token context (../shared/golden/DCA.md), per token.
    func testDualChunkC384L64MatchesOfficialCode() throws {
        let map = try PositionSpec.parse("dca", trainedContext: 512)
        XCTAssertEqual(map.description, "dca:C=384:L=64")
        try check(config: "dca_c384_l64", positions: map, tolerance: 1e-4, perToken: 1e-3)
    }

    /// Settings of our own, against the official ChunkLlama code run by scripts/dca_reference.py
    /// (Fixtures/dca_stories260K.json): C=200/L=40 (previous-chunk distances capped past L) and C=300/L=200
    /// (L > cl, so older chunks use 2·cl − 1 < C).
    func testDualChunkOwnSettingsMatchOfficialCode() throws {
        let path = TestFiles.repositoryRoot.appendingPathComponent("Tests/StretchTests/Model/Fixtures/dca_stories260K.json").path
        let fixture = try TestFiles.json(path)
        let tokens = (fixture["token_ids"] as! [Any]).map { ($0 as! NSNumber).intValue }
        let model = try LlamaModel(file: GGUFFile(path: TestFiles.stories260K), options: LoadOptions(precision: .f32))
        let settings = fixture["settings"] as! [[String: Any]]
        XCTAssertEqual(settings.count, 2)
        for setting in settings {
            let c = (setting["chunk_size"] as! NSNumber).intValue, l = (setting["local_window"] as! NSNumber).intValue
            let refNLL = (setting["nll"] as! [Any]).map { ($0 as! NSNumber).doubleValue }
            let map = try PositionSpec.parse("dca:C=\(c):L=\(l)", trainedContext: model.config.contextLength)
            let nll = try TokenScorer.score(model: model, tokens: tokens, positions: map)
            XCTAssertEqual(nll.count, refNLL.count)
            let diffs = zip(nll, refNLL).map { abs($0 - $1) }
            let mad = diffs.reduce(0, +) / Double(diffs.count)
            print("stories260K dca C=\(c) L=\(l): mean |ΔNLL| = \(mad), max \(diffs.max()!)")
            XCTAssertLessThan(mad, 1e-4, "C=\(c) L=\(l)")
            XCTAssertLessThan(diffs.max()!, 1e-3, "C=\(c) L=\(l): largest per-token |ΔNLL|")
        }
    }
}
