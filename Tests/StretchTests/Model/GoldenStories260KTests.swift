import Foundation
import Stretch
import StretchEvaluation
import XCTest

/// stories260K against the independent float32 references in ../shared/golden/stories260K.
final class GoldenStories260KTests: XCTestCase {
    func check(config: String, positions: PositionMap, tolerance: Double) throws {
        let dir = "golden/stories260K/"
        let tokens = (try TestFiles.json(TestFiles.shared(dir + "tokens.json"))["token_ids"] as! [Any]).map { ($0 as! NSNumber).intValue }
        let ref = try TestFiles.json(TestFiles.shared(dir + config + ".json"))
        let refNLL = (ref["nll"] as! [Any]).map { ($0 as! NSNumber).doubleValue }
        // The bar is for --precision f32 (float32 KV cache too).
        let model = try LlamaModel(file: GGUFFile(path: TestFiles.stories260K), options: LoadOptions(precision: .f32))
        let nll = try TokenScorer.score(model: model, tokens: tokens, positions: positions)
        XCTAssertEqual(nll.count, refNLL.count)
        let mad = zip(nll, refNLL).map { abs($0 - $1) }.reduce(0, +) / Double(nll.count)
        print("stories260K \(config): mean |ΔNLL| = \(mad), mean NLL \(nll.reduce(0, +) / Double(nll.count))")
        XCTAssertLessThan(mad, tolerance)
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
}
