import Stretch
import XCTest

/// The sampler's filters, determinism and validation.
final class SamplerTests: XCTestCase {
    let logits: [Float] = [1.0, 3.0, 2.5, -1.0, 0.0, 2.9]

    func testGreedyPicksTheArgmax() throws {
        var s = try Sampler(.greedy)
        XCTAssertEqual(s.sample(logits: logits, history: []), 1)
    }

    func testSameSeedSameTokensDifferentSeedsDiffer() throws {
        func run(_ seed: UInt64) throws -> [Int] {
            var s = try Sampler(SamplingParameters(temperature: 1.5, topK: 0, topP: 1, minP: 0, seed: seed))
            return (0..<200).map { _ in s.sample(logits: logits, history: []) }
        }
        XCTAssertEqual(try run(42), try run(42))
        XCTAssertNotEqual(try run(42), try run(43))
        XCTAssertEqual(Set(try run(42)).count, 6, "temperature 1.5 with no filters reaches every token")
    }

    func testTopKOneIsGreedyAndTopKLimitsTheSupport() throws {
        var one = try Sampler(SamplingParameters(temperature: 2, topK: 1, topP: 1, minP: 0, seed: 1))
        XCTAssertTrue((0..<50).allSatisfy { _ in one.sample(logits: logits, history: []) == 1 })
        var three = try Sampler(SamplingParameters(temperature: 5, topK: 3, topP: 1, minP: 0, seed: 1))
        XCTAssertEqual(Set((0..<300).map { _ in three.sample(logits: logits, history: []) }), [1, 5, 2])
    }

    func testMinPDropsUnlikelyTokens() throws {
        // p(token)/p(max) = exp(l − 3): token 0 is e^-2 ≈ 0.135 of the best, token 4 is e^-3 ≈ 0.05.
        var s = try Sampler(SamplingParameters(temperature: 5, topK: 0, topP: 1, minP: 0.1, seed: 3))
        let seen = Set((0..<500).map { _ in s.sample(logits: logits, history: []) })
        XCTAssertEqual(seen, [0, 1, 2, 5])
    }

    func testTopPKeepsTheSmallestNucleus() throws {
        // Softmax of the logits: tokens 1, 5, 2 hold ≈ 0.86 of the mass; top-p 0.5 keeps only 1 and 5.
        var s = try Sampler(SamplingParameters(temperature: 1, topK: 0, topP: 0.5, minP: 0, seed: 9))
        XCTAssertEqual(Set((0..<300).map { _ in s.sample(logits: logits, history: []) }), [1, 5])
    }

    func testRepetitionPenaltyDemotesSeenTokens() throws {
        var s = try Sampler(SamplingParameters(temperature: 0, repetitionPenalty: 2, repetitionWindow: 64))
        XCTAssertEqual(s.sample(logits: logits, history: [1]), 5, "3.0/2 = 1.5 falls below 2.9")
        var far = try Sampler(SamplingParameters(temperature: 0, repetitionPenalty: 2, repetitionWindow: 1))
        XCTAssertEqual(far.sample(logits: logits, history: [1, 4]), 1, "token 1 is outside the window of 1")
    }

    func testInvalidParametersAreRejected() {
        XCTAssertThrowsError(try Sampler(SamplingParameters(topP: 0)))
        XCTAssertThrowsError(try Sampler(SamplingParameters(minP: 1.5)))
        XCTAssertThrowsError(try Sampler(SamplingParameters(repetitionPenalty: 0)))
        XCTAssertThrowsError(try Sampler(SamplingParameters(temperature: .nan)))
    }

    /// The one-pass top-k equals a stable descending sort's first k, ties included.
    func testTopKSelectionEqualsStableSort() {
        var g = SplitMix64(seed: 3)
        for n in [1, 5, 40, 41, 1000, 151_936] {
            // Few distinct values, so ties at the k-th place are common.
            let values = (0..<n).map { _ in Float(Int(g.next() % 50)) - 25 }
            for k in [1, 2, 40, min(n, 1000)] where k <= n {
                let expected = Array(values.indices.sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }.prefix(k))
                let got = values.withUnsafeBufferPointer { Sampler.topK($0, k) }
                XCTAssertEqual(got, expected, "n \(n) k \(k)")
            }
        }
    }
}
