import Foundation
import Stretch
import XCTest

/// Logit bias and llama.cpp's penalties (repetition, presence, frequency) against a naive transcription of
/// llama.cpp's `llama_sampler_penalties_apply` and `llama_sampler_logit_bias`, and log-probabilities
/// against a naive log-softmax.
final class SamplerPenaltyTests: XCTestCase {
    /// Greedy choice after bias and penalties, computed the slow way in Double.
    private func naiveGreedy(_ logits: [Float], _ history: [Int], _ p: SamplingParameters) -> Int {
        var l = logits.map(Double.init)
        for (t, b) in p.logitBias { l[t] += Double(b) }
        let window = p.repetitionWindow < 0 ? history.count : min(p.repetitionWindow, history.count)
        var count = [Int](repeating: 0, count: l.count)
        for t in history.suffix(window) { count[t] += 1 }
        for t in l.indices where count[t] > 0 {
            // llama.cpp: a logit ≤ 0 is multiplied by the penalty, a positive one divided.
            if l[t] <= 0 { l[t] *= Double(p.repetitionPenalty) } else { l[t] /= Double(p.repetitionPenalty) }
            l[t] -= Double(count[t]) * Double(p.frequencyPenalty) + Double(p.presencePenalty)
        }
        var best = 0
        for i in l.indices where l[i] > l[best] { best = i }
        return best
    }

    func testGreedyWithBiasAndPenaltiesMatchesNaiveReference() throws {
        var rng = SplitMix64(seed: 7)
        var changed = 0
        for trial in 0..<400 {
            let vocab = 50
            // Few distinct values, so penalties often change the winner.
            let logits = (0..<vocab).map { _ in Float(Int.random(in: -8...8, using: &rng)) / 2 }
            let history = (0..<Int.random(in: 0...40, using: &rng)).map { _ in Int.random(in: 0..<12, using: &rng) }
            var p = SamplingParameters.greedy
            p.repetitionPenalty = [1, 1.1, 1.5, 0.8][trial % 4]
            p.presencePenalty = [0, 0.5, -0.3, 1.2][(trial / 4) % 4]
            p.frequencyPenalty = [0, 0.25, 0.7][(trial / 16) % 3]
            p.repetitionWindow = [-1, 8, 64][(trial / 48) % 3]
            if trial % 5 == 0 { p.logitBias = [Int.random(in: 0..<vocab, using: &rng): Float.random(in: -3...3, using: &rng)] }
            if trial % 7 == 0 { p.logitBias[logits.indices.max { logits[$0] < logits[$1] }!] = -.infinity }
            var sampler = try Sampler(p)
            let got = sampler.sample(logits: logits, history: history)
            let expected = naiveGreedy(logits, history, p)
            XCTAssertEqual(got, expected, "trial \(trial): \(p)")
            if expected != (logits.indices.max { logits[$0] < logits[$1] || (logits[$0] == logits[$1] && $0 > $1) }!) {
                changed += 1
            }
        }
        // The cases must exercise the penalties, not only the plain argmax.
        XCTAssertGreaterThan(changed, 50)
    }

    func testInvalidPenaltiesAndBiasAreRefused() {
        XCTAssertThrowsError(try Sampler(SamplingParameters(presencePenalty: .nan)))
        XCTAssertThrowsError(try Sampler(SamplingParameters(frequencyPenalty: .infinity)))
        XCTAssertThrowsError(try Sampler(SamplingParameters(logitBias: [3: .infinity]))) { error in
            XCTAssertTrue("\(error)".contains("logit bias"), "\(error)")
        }
        XCTAssertNoThrow(try Sampler(SamplingParameters(logitBias: [3: -.infinity])))
    }

    func testLogprobsEqualNaiveLogSoftmax() {
        var rng = SplitMix64(seed: 11)
        let logits = (0..<1000).map { _ in Float.random(in: -20...20, using: &rng) }
        let record = TokenLogprobs(logits: logits, token: 17, count: 5)
        let z = log(logits.map { exp(Double($0)) }.reduce(0, +))
        XCTAssertEqual(Double(record.chosen.logprob), Double(logits[17]) - z, accuracy: 1e-4)
        let order = logits.indices.sorted { logits[$0] > logits[$1] }
        XCTAssertEqual(record.top.map(\.id), Array(order.prefix(5)))
        for c in record.top { XCTAssertEqual(Double(c.logprob), Double(logits[c.id]) - z, accuracy: 1e-4) }
        XCTAssertEqual(TokenLogprobs(logits: logits, token: 3, count: 0).top, [])
    }
}

