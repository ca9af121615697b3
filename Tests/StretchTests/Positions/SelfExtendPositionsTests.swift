import Stretch
import XCTest

/// Self-Extend position arithmetic against SELF_EXTEND.md §1 and §5.
final class SelfExtendPositionsTests: XCTestCase {
    /// The spec's golden distance matrix for N=10, G=2, W=4.
    func testGoldenDistanceMatrix() throws {
        let expected: [[Int]] = [
            [0],
            [1, 0],
            [2, 1, 0],
            [3, 2, 1, 0],
            [4, 3, 2, 1, 0],
            [4, 4, 3, 2, 1, 0],
            [5, 5, 4, 3, 2, 1, 0],
            [5, 5, 4, 4, 3, 2, 1, 0],
            [6, 6, 5, 5, 4, 3, 2, 1, 0],
            [6, 6, 5, 5, 4, 4, 3, 2, 1, 0],
        ]
        let se = try SelfExtendPositions(groupSize: 2, window: 4)
        for i in 0..<10 {
            XCTAssertEqual((0...i).map { se.distance(query: i, key: $0) }, expected[i], "row \(i)")
            // The distance is what the rotations produce: far query − far key, or i − j.
            for j in 0...i where i - j >= se.window {
                XCTAssertEqual(Int(se.farQueryPosition(i) - se.farKeyPosition(j)), expected[i][j])
            }
        }
    }

    /// The spec's other example: 14 tokens, G=2, W=4, last row `8 8 7 7 6 6 5 5 4 4 3 2 1 0`.
    func testFourteenTokenRowMatchesThePaperNotLlamaCpp() throws {
        let se = try SelfExtendPositions(groupSize: 2, window: 4)
        XCTAssertEqual((0...13).map { se.distance(query: 13, key: $0) }, [8, 8, 7, 7, 6, 6, 5, 5, 4, 4, 3, 2, 1, 0])
    }

    func testMaximumSequenceLengthArithmetic() throws {
        XCTAssertEqual(try SelfExtendPositions(groupSize: 8, window: 1024).maxSequenceLength(trainedContext: 4096), 25_600)
        XCTAssertEqual(try SelfExtendPositions(groupSize: 5, window: 1024).maxSequenceLength(trainedContext: 4096), 16_380)
        // The last admissible token uses distance L−1 to key 0; one more would use L.
        for (g, w, L) in [(2, 4, 16), (3, 5, 17), (8, 1024, 4096), (5, 1024, 4096), (16, 256, 512), (7, 100, 512)] {
            let se = try SelfExtendPositions(groupSize: g, window: w)
            let nMax = se.maxSequenceLength(trainedContext: L)!
            XCTAssertEqual(se.distance(query: nMax - 1, key: 0), L - 1, "G=\(g) W=\(w) L=\(L)")
            XCTAssertEqual(se.distance(query: nMax, key: 0), L, "G=\(g) W=\(w) L=\(L)")
            for j in 0..<min(nMax, 50) { XCTAssertLessThanOrEqual(se.distance(query: nMax - 1, key: j), L - 1) }
        }
    }

    func testGroupSizeOneIsPlainRoPE() throws {
        let se = try SelfExtendPositions(groupSize: 1, window: 7)
        for i in 0..<40 {
            for j in 0...i { XCTAssertEqual(se.distance(query: i, key: j), i - j) }
        }
    }

    func testSmallestGroupSizeForATarget() throws {
        for (target, w, L) in [(4096, 256, 512), (16384, 1024, 4096), (25600, 1024, 4096), (5000, 100, 512), (513, 256, 512)] {
            let g = SelfExtendPositions.smallestGroupSize(target: target, window: w, trainedContext: L)
            XCTAssertGreaterThanOrEqual(g * (L - w + w / g), target)
            if g > 1 { XCTAssertLessThan((g - 1) * (L - w + w / (g - 1)), target, "G=\(g) is not the smallest") }
        }
        XCTAssertEqual(SelfExtendPositions.smallestGroupSize(target: 4096, window: 256, trainedContext: 512), 16)
    }

    func testContextPlanRefusesOneTokenPastNMaxNamingTheNumbers() throws {
        let se = try SelfExtendPositions(groupSize: 4, window: 128)
        let nMax = 4 * (512 - 128 + 32)
        XCTAssertEqual(try ContextPlan(trainedContext: 512, requested: nil, positions: se).contextSize, nMax)
        XCTAssertEqual(try ContextPlan(trainedContext: 512, requested: nMax, positions: se).contextSize, nMax)
        XCTAssertThrowsError(try ContextPlan(trainedContext: 512, requested: nMax + 1, positions: se)) { error in
            let text = "\(error)"
            for needle in ["\(nMax + 1)", "\(nMax)", "G=4", "W=128", "L=512"] {
                XCTAssertTrue(text.contains(needle), "'\(needle)' missing from: \(text)")
            }
        }
        let plain = try ContextPlan(trainedContext: 512, requested: 2048, positions: PlainPositions())
        XCTAssertEqual(plain.contextSize, 2048)
        XCTAssertNotNil(plain.warning, "plain attention past L runs only with a warning")
        XCTAssertNil(try ContextPlan(trainedContext: 512, requested: nil, positions: PlainPositions()).warning)
    }

    func testInvalidParametersAreClearErrors() throws {
        func message(_ body: () throws -> Any) -> String {
            do {
                _ = try body()
                return "no error"
            } catch { return "\(error)" }
        }
        XCTAssertTrue(message { try SelfExtendPositions(groupSize: 0, window: 4) }.contains("G (group size)=0"))
        XCTAssertTrue(message { try SelfExtendPositions(groupSize: 2, window: 0) }.contains("W (neighbour window)=0"))
        // Library messages speak of tokens, G, W and L; the CLI adds the flags (ErrorHints).
        let se = try SelfExtendPositions(groupSize: 2, window: 64)
        let pastMax = message { try ContextPlan(trainedContext: 512, requested: 9000, positions: se) }
        XCTAssertTrue(pastMax.hasPrefix("9000 tokens exceed the maximum of 960: "), pastMax)
        XCTAssertTrue(pastMax.hasSuffix("; use a larger G or a smaller context"), pastMax)
        let plan = try ContextPlan(trainedContext: 512, requested: 0, positions: se)
        let tooMany = message { try plan.check(tokens: 1000, what: "the prompt", positions: se, trainedContext: 512) }
        XCTAssertTrue(tooMany.contains("the prompt needs 1000 tokens but the context is 960 tokens; "), tooMany)
        let plainPlan = try ContextPlan(trainedContext: 512, requested: 1024, positions: PlainPositions())
        XCTAssertTrue(plainPlan.warning!.hasPrefix("warning: a context of 1024 tokens is above 512 tokens: "), plainPlan.warning!)
        for text in [pastMax, tooMany, plainPlan.warning!] {
            for flag in ["-c ", "(-c)", "-gan", "-gaw", "--"] { XCTAssertFalse(text.contains(flag), "\(flag) in: \(text)") }
        }
        XCTAssertTrue(message { try PositionSpec.parse("self-extend:G=4:W=512", trainedContext: 512) }
            .contains("must be smaller than the trained context L=512"))
        XCTAssertTrue(message { try PositionSpec.parse("leaky-rerope:W=64:K=1", trainedContext: 512) }.contains("K=1.0: must be > 1"))
        XCTAssertTrue(message { try PositionSpec.parse("rerope:W=600", trainedContext: 512) }.contains("L=512"))
        XCTAssertTrue(message { try PositionSpec.parse("yarn:S=0.5", trainedContext: 512) }.contains("must be ≥ 1"))
        XCTAssertTrue(message { try PositionSpec.parse("yarn:S=4:BF=1:BS=2", trainedContext: 512) }.contains("β_fast > β_slow"))
        XCTAssertTrue(message { try PositionSpec.parse("linear", trainedContext: 512) }.contains("S=(missing)"))
        XCTAssertTrue(message { try PositionSpec.parse("self-extend:G=x", trainedContext: 512) }.contains("must be an integer"))
        XCTAssertTrue(message { try PositionSpec.parse("self-extend:Q=3", trainedContext: 512) }.contains("not a parameter"))
        XCTAssertTrue(message { try PositionSpec.parse("warp", trainedContext: 512) }.contains("known schemes"))
    }

    func testSpecsRoundTripThroughTheirDescriptions() throws {
        for spec in ["none", "self-extend:G=16:W=256", "rerope:W=256", "leaky-rerope:W=256:K=16", "linear:S=4",
                     "ntk:S=4", "dynamic-ntk:S=2", "yarn:S=4", "self-extend:G=4:W=128:logn=1"] {
            let map = try PositionSpec.parse(spec, trainedContext: 512)
            let again = try PositionSpec.parse(map.description, trainedContext: 512)
            XCTAssertEqual(again.description, map.description, spec)
        }
    }
}
