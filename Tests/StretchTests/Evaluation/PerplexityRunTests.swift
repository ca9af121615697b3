import Stretch
import StretchEvaluation
import XCTest

final class PerplexityRunTests: XCTestCase {
    func testWindowsFollowLlamaCppHalfScoring() throws {
        let run = try PerplexityRun(tokenCount: 1000, windowSize: 256, chunks: nil, scoreMode: .half, bosID: 1)
        XCTAssertEqual(run.windowCount, 3)
        XCTAssertEqual(run.firstScored, 128)
        XCTAssertEqual(run.scoredPerWindow, 127)  // llama.cpp: n_ctx - 1 - n_ctx/2
        XCTAssertEqual(run.tokensPerScheme, 3 * 255)
        let tokens = Array(100..<1100)
        let w1 = run.window(1, of: tokens)
        XCTAssertEqual(w1.count, 256)
        XCTAssertEqual(w1[0], 1, "BOS replaces the first token of every window")
        XCTAssertEqual(w1[1], 357)
    }

    func testWholeInputAndScoreAll() throws {
        let run = try PerplexityRun(tokenCount: 77, windowSize: 0, chunks: nil, scoreMode: .all, bosID: nil)
        XCTAssertEqual(run.windowSize, 77)
        XCTAssertEqual(run.windowCount, 1)
        XCTAssertEqual(run.scoredPerWindow, 76)
        XCTAssertEqual(run.window(0, of: Array(0..<77)), Array(0..<77), "no BOS: the window is used as given")
    }

    func testErrorsNameTheNumbers() {
        XCTAssertThrowsError(
            try PerplexityRun(tokenCount: 100, windowSize: 256, chunks: nil, scoreMode: .half, bosID: nil)
        ) {
            XCTAssertEqual(
                "\($0)",
                "the input has 100 tokens but 256 are needed: one window of 256 tokens does not fit; "
                    + "use a smaller window or more text")
        }
        XCTAssertThrowsError(
            try PerplexityRun(tokenCount: 600, windowSize: 256, chunks: 3, scoreMode: .half, bosID: nil)
        ) {
            XCTAssertEqual(
                "\($0)",
                "the input has 600 tokens but 768 are needed: 3 windows of 256 tokens need 768 tokens; only 2 fit")
        }
    }

    func testFinalEstimateMatchesLlamaCppFormula() {
        let scheme = ContextScheme(spec: "none", positions: PlainPositions())
        let r = PerplexityResult(scheme: scheme, windows: [[nil, 1, 2], [nil, 3, 4]])
        XCTAssertEqual(r.count, 4)
        XCTAssertEqual(r.meanNLL, 2.5)
        // var = E[x²] − E[x]² = 7.5 − 6.25 = 1.25; err = ppl · sqrt(1.25 / 3)
        XCTAssertEqual(r.perplexityError, exp(2.5) * (1.25 / 3).squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(r.finalEstimate, "Final estimate: PPL = 12.1825 +/- 7.86377")
        XCTAssertEqual(r.positionNLL, [nil, 2, 3])
    }

    func testSchemesRoundTripThroughPositionSpec() throws {
        let s = try ContextScheme(spec: "self-extend:G=16:W=256", trainedContext: 512)
        XCTAssertEqual(s.name, "self-extend")
        XCTAssertEqual(
            JSONValue.object(s.jsonMembers).rendered(),
            """
            {
              "scheme": "self-extend:G=16:W=256",
              "name": "self-extend",
              "parameters": {
                "G": 16,
                "W": 256
              }
            }
            """)
        let again = try PositionSpec.parse(s.spec, trainedContext: 512) as? SelfExtendPositions
        XCTAssertEqual(again, s.positions as? SelfExtendPositions)
        let defaults = try ContextScheme(spec: "self-extend", trainedContext: 512)
        XCTAssertEqual(
            JSONValue.object(defaults.parameters).rendered(),
            JSONValue.object([("G", .int(4)), ("W", .int(256))]).rendered())
        XCTAssertEqual(
            ContextScheme.canonicalSpec(of: try SelfExtendPositions(groupSize: 4, window: 1024)),
            "self-extend:G=4:W=1024")
        XCTAssertThrowsError(try ContextScheme(spec: "bogus:X=1", trainedContext: 512))
    }

    func testReportTableCSVAndPlot() throws {
        let run = try PerplexityRun(tokenCount: 8, windowSize: 8, chunks: 1, scoreMode: .all, bosID: nil)
        let a = PerplexityResult(
            scheme: ContextScheme(spec: "none", positions: PlainPositions()),
            windows: [[1, 1, 1, 3, 3, 3, 3]])
        let b = PerplexityResult(
            scheme: ContextScheme(
                spec: "self-extend:G=2:W=2", positions: try SelfExtendPositions(groupSize: 2, window: 2)),
            windows: [[1, 1, 1, 1, 1, 1, 1]])
        let report = PerplexityReport(
            results: [a, b], run: run, bucketSize: 4, trainedContext: 4, source: "t.txt",
            model: "m.gguf", inputTokens: 8)
        XCTAssertEqual(
            report.table(),
            """
            perplexity of t.txt: 1 window of 8 tokens, --score all (7 predictions per window), buckets of 4 tokens, trained context L=4
            positions                    none  self-extend:G=2:W=2
                                NLL       PPL        NLL       PPL
            0-3              1.0000     2.718     1.0000     2.718
            ---- past the trained context L=4 ----
            4-7              3.0000    20.086     1.0000     2.718

            none: 7 scored tokens, mean NLL 2.1429, PPL 8.524, 0.0 s
            self-extend:G=2:W=2: 7 scored tokens, mean NLL 1.0000, PPL 2.718, 0.0 s
            Final estimate: PPL = 8.5238 +/- 3.44412 [none]
            Final estimate: PPL = 2.7183 +/- 0.00000 [self-extend:G=2:W=2]

            """)
        XCTAssertEqual(
            report.csv(),
            """
            scheme,bucket_start,bucket_end,tokens,mean_nll,ppl
            none,0,4,3,1.000000,2.718282
            none,4,8,4,3.000000,20.085537
            self-extend:G=2:W=2,0,4,3,1.000000,2.718282
            self-extend:G=2:W=2,4,8,4,1.000000,2.718282

            """)
        let plot = report.plot()
        XCTAssertEqual(plot.series.map(\.name), ["none", "self-extend:G=2:W=2"])
        XCTAssertEqual(plot.series[0].points.map(\.x), [2, 6])
        XCTAssertEqual(plot.markers.map(\.x), [4])
        XCTAssertEqual(plot.axes().y.lower, 0)
    }
}
