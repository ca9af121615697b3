import Foundation
import Stretch
import XCTest

/// The attention kernel against the naive definition of SELF_EXTEND.md §2, written here independently in
/// Double: two full logit matrices (near and far rotations), merged by distance, causal softmax, times V.
final class ExactAttentionTests: XCTestCase {
    struct Problem {
        let n: Int, heads: Int, kvHeads: Int, headDim: Int
        let q: [Float], k: [Float], v: [Float]

        init(n: Int, heads: Int, kvHeads: Int, headDim: Int, seed: UInt64) {
            self.n = n
            self.heads = heads
            self.kvHeads = kvHeads
            self.headDim = headDim
            var rng = SeededGenerator(seed: seed)
            func draw(_ count: Int) -> [Float] { (0..<count).map { _ in Float.random(in: -1...1, using: &rng) } }
            q = draw(n * heads * headDim)
            k = draw(n * kvHeads * headDim)
            v = draw(n * kvHeads * headDim)
        }
    }

    static let base = 10000.0

    /// Rotate-half RoPE of one head vector at a (possibly fractional) position, in Double.
    static func rotate(_ x: ArraySlice<Float>, position: Double) -> [Double] {
        let d = x.count
        let half = d / 2
        let xs = x.map(Double.init)
        var out = xs
        for m in 0..<half {
            let angle = position * pow(base, -2.0 * Double(m) / Double(d))
            out[m] = xs[m] * cos(angle) - xs[m + half] * sin(angle)
            out[m + half] = xs[m] * sin(angle) + xs[m + half] * cos(angle)
        }
        return out
    }

    /// The naive reference: full near and far logit matrices per head, merged by `d < W`.
    ///
    /// `stored` models the cache's storage: each rotated key and each value row passes through it (the
    /// identity for float32; an encode/decode round trip for the block formats).
    static func reference(
        _ p: Problem, map: PositionMap, slidingWindow: Int = Int.max, softCap: Double = 0,
        storedKey: ([Double]) -> [Double] = { $0 }, storedValue: ([Double]) -> [Double] = { $0 }
    ) -> [Double] {
        let hd = p.headDim
        let group = p.heads / p.kvHeads
        var out = [Double](repeating: 0, count: p.n * p.heads * hd)
        for h in 0..<p.heads {
            let kvh = h / group
            func qv(_ i: Int) -> ArraySlice<Float> { p.q[((i * p.heads + h) * hd)..<((i * p.heads + h + 1) * hd)] }
            func kv(_ j: Int) -> ArraySlice<Float> { p.k[((j * p.kvHeads + kvh) * hd)..<((j * p.kvHeads + kvh + 1) * hd)] }
            var near = [[Double]](repeating: [Double](repeating: 0, count: p.n), count: p.n)
            var far = near
            let keysNear = (0..<p.n).map { storedKey(rotate(kv($0), position: Double($0))) }
            let keysFar = (0..<p.n).map { storedKey(rotate(kv($0), position: map.farKeyPosition($0))) }
            let vals = (0..<p.n).map { j in
                storedValue(p.v[((j * p.kvHeads + kvh) * hd)..<((j * p.kvHeads + kvh + 1) * hd)].map(Double.init))
            }
            for i in 0..<p.n {
                let qn = rotate(qv(i), position: Double(i))
                let qf = rotate(qv(i), position: map.farQueryPosition(i))
                for j in 0..<p.n {
                    let kn = keysNear[j]
                    let kf = keysFar[j]
                    near[i][j] = zip(qn, kn).map(*).reduce(0, +) / Double(hd).squareRoot()
                    far[i][j] = zip(qf, kf).map(*).reduce(0, +) / Double(hd).squareRoot()
                    if softCap > 0 {
                        near[i][j] = softCap * tanh(near[i][j] / softCap)
                        far[i][j] = softCap * tanh(far[i][j] / softCap)
                    }
                }
            }
            for i in 0..<p.n {
                // Keys farther than the sliding window are masked.
                let first = slidingWindow == Int.max ? 0 : max(0, i - slidingWindow + 1)
                let logits = (0...i).map { j in j < first ? -Double.infinity : i - j < map.window ? near[i][j] : far[i][j] }
                let m = logits.max()!
                let e = logits.map { exp($0 - m) }
                let s = e.reduce(0, +)
                for j in 0...i {
                    for d in 0..<hd {
                        out[(i * p.heads + h) * hd + d] += e[j] / s * vals[j][d]
                    }
                }
            }
        }
        return out
    }

    /// Runs the engine over `chunks` (sizes summing to n) and returns `[n][heads][headDim]`.
    static func engine(
        _ p: Problem, map: PositionMap, chunks: [Int], threads: Int = 2, elementType: KVElementType = .f32,
        valueType: KVElementType? = nil, slidingWindow: Int = Int.max, softCap: Float = 0, trainedContext: Int = 1 << 20,
        layer: Int = 0
    ) -> [Float] {
        let workers = WorkerPool(threads: threads)
        let rope = RotaryEmbedding(dimensions: p.headDim, base: base, pairing: .halves)
        let cache = KVCache(layers: layer + 1, kvHeads: p.kvHeads, headDim: p.headDim, positions: map,
                            maxTokens: p.n, keyType: elementType, valueType: valueType ?? elementType)
        var out = [Float]()
        var t0 = 0
        for c in chunks {
            var q = Array(p.q[(t0 * p.heads * p.headDim)..<((t0 + c) * p.heads * p.headDim)])
            var k = Array(p.k[(t0 * p.kvHeads * p.headDim)..<((t0 + c) * p.kvHeads * p.headDim)])
            let v = Array(p.v[(t0 * p.kvHeads * p.headDim)..<((t0 + c) * p.kvHeads * p.headDim)])
            var o = [Float](repeating: 0, count: c * p.heads * p.headDim)
            cache.reserve(c)
            let step = AttentionStep(cache: cache, tokens: c, rope: rope, positions: map, trainedContext: trainedContext,
                                     slidingWindow: slidingWindow, softCap: softCap)
            q.withUnsafeMutableBufferPointer { qb in
                k.withUnsafeMutableBufferPointer { kb in
                    v.withUnsafeBufferPointer { vb in
                        o.withUnsafeMutableBufferPointer { ob in
                            step.attend(cache: cache, layer: layer, queries: qb.baseAddress!, keys: kb.baseAddress!,
                                        values: vb.baseAddress!, heads: p.heads, out: ob.baseAddress!, workers: workers)
                        }
                    }
                }
            }
            cache.commit(c)
            out += o
            t0 += c
        }
        return out
    }

    static func maxDiff(_ a: [Float], _ b: [Double]) -> Double {
        zip(a, b).map { abs(Double($0) - $1) }.max() ?? 0
    }

    func testRandomSelfExtendAgainstNaiveReference() throws {
        var rng = SeededGenerator(seed: 7)
        // Includes W mod G ≠ 0, GQA (heads/kvHeads up to 7), and head dims 64, 128, 256.
        let cases: [(n: Int, g: Int, w: Int, heads: Int, kv: Int, hd: Int)] = [
            (70, 2, 4, 2, 1, 64), (90, 3, 10, 7, 1, 64), (75, 4, 6, 4, 2, 128), (40, 5, 7, 2, 2, 256),
            (130, 8, 20, 14, 2, 64), (33, 1, 5, 2, 1, 64), (100, 16, 17, 3, 3, 64),
        ]
        for c in cases {
            let p = Problem(n: c.n, heads: c.heads, kvHeads: c.kv, headDim: c.hd, seed: rng.next())
            let map = try SelfExtendPositions(groupSize: c.g, window: c.w)
            let ref = Self.reference(p, map: map)
            let got = Self.engine(p, map: map, chunks: [c.n])
            XCTAssertLessThan(Self.maxDiff(got, ref), 2e-5, "N=\(c.n) G=\(c.g) W=\(c.w) heads \(c.heads)/\(c.kv) D=\(c.hd)")
        }
    }

    /// Gemma 2's attention logit soft-capping, in the tiled (D=64) and row-wise (D=24) kernels, with
    /// Self-Extend, a sliding window and chunked prefill.
    func testSoftCappedScoresAgainstNaiveReference() throws {
        for hd in [64, 24] {
            let p = Problem(n: 70, heads: 4, kvHeads: 2, headDim: hd, seed: 5)
            let map = try SelfExtendPositions(groupSize: 2, window: 8)
            for window in [Int.max, 20] {
                let ref = Self.reference(p, map: map, slidingWindow: window, softCap: 0.3)
                let got = Self.engine(p, map: map, chunks: [30, 1, 39], slidingWindow: window, softCap: 0.3)
                XCTAssertLessThan(Self.maxDiff(got, ref), 2e-5, "D=\(hd) sliding \(window)")
                // The cap is active: uncapped attention is far from the capped reference.
                let plain = Self.engine(p, map: map, chunks: [70], slidingWindow: window)
                XCTAssertGreaterThan(Self.maxDiff(plain, ref), 1e-3)
            }
        }
    }

    func testOtherSchemesAgainstNaiveReference() throws {
        let p = Problem(n: 80, heads: 4, kvHeads: 2, headDim: 64, seed: 11)
        for spec in ["none", "rerope:W=9", "leaky-rerope:W=9:K=3"] {
            let map = try PositionSpec.parse(spec, trainedContext: 1 << 20)
            XCTAssertLessThan(Self.maxDiff(Self.engine(p, map: map, chunks: [80]), Self.reference(p, map: map)), 2e-5, spec)
        }
    }

    func testChunkedPrefillAndDecodeEqualOneShot() throws {
        let p = Problem(n: 150, heads: 6, kvHeads: 2, headDim: 64, seed: 3)
        let map = try SelfExtendPositions(groupSize: 3, window: 16)
        let oneShot = Self.engine(p, map: map, chunks: [150])
        var rng = SeededGenerator(seed: 5)
        for _ in 0..<3 {
            var chunks: [Int] = []
            var left = 150
            while left > 0 {
                let c = min(left, Int.random(in: 1...40, using: &rng))
                chunks.append(c)
                left -= c
            }
            let chunked = Self.engine(p, map: map, chunks: chunks)
            XCTAssertLessThan(zip(chunked, oneShot).map { abs($0 - $1) }.max()!, 1e-6, "chunks \(chunks)")
        }
        // Prefill of t tokens, then decode one token at a time.
        let decoded = Self.engine(p, map: map, chunks: [100] + [Int](repeating: 1, count: 50))
        XCTAssertLessThan(zip(decoded, oneShot).map { abs($0 - $1) }.max()!, 1e-6)
    }

    func testGroupSizeOneAndWideWindowEqualPlainAttention() throws {
        let p = Problem(n: 90, heads: 4, kvHeads: 1, headDim: 64, seed: 9)
        let plain = Self.engine(p, map: PlainPositions(), chunks: [90])
        let g1 = Self.engine(p, map: try SelfExtendPositions(groupSize: 1, window: 8), chunks: [90])
        let wide = Self.engine(p, map: try SelfExtendPositions(groupSize: 4, window: 90), chunks: [90])
        XCTAssertLessThan(zip(g1, plain).map { abs($0 - $1) }.max()!, 1e-5)
        XCTAssertEqual(wide, plain, "every d < W: the far map is never used")
    }

    func testF16CacheStaysCloseToTheReference() throws {
        let p = Problem(n: 120, heads: 7, kvHeads: 1, headDim: 64, seed: 21)
        let map = try SelfExtendPositions(groupSize: 4, window: 24)
        let ref = Self.reference(p, map: map)
        let f16 = Self.engine(p, map: map, chunks: [50, 1, 69], elementType: .f16)
        XCTAssertLessThan(Self.maxDiff(f16, ref), 3e-3)
        XCTAssertGreaterThan(Self.maxDiff(f16, ref), 0, "F16 storage should round something")
    }

    /// Sliding windows (Gemma's local layers) with and without Self-Extend, head widths that are not a
    /// multiple of 64 (the tiled kernel's 16-lane path) or of 16 (the row-at-a-time path), single-row
    /// groups, and chunked and token-by-token prefill: every case against the naive reference.
    func testSlidingWindowsAndOddShapesAgainstNaiveReference() throws {
        var rng = SeededGenerator(seed: 13)
        let cases: [(n: Int, g: Int, w: Int, sw: Int, heads: Int, kv: Int, hd: Int, chunks: [Int])] = [
            (150, 1, 1, 37, 4, 1, 64, [150]), (150, 2, 20, 37, 3, 1, 64, [70, 1, 79]), (140, 3, 50, 80, 2, 2, 16, [140]),
            (100, 4, 9, 1000, 5, 5, 48, [33, 67]), (90, 2, 30, 20, 6, 2, 80, [90]), (70, 3, 7, 16, 1, 1, 8, [40, 30]),
            (130, 2, 64, 64, 2, 1, 32, [64, 1, 1, 64]),
        ]
        for c in cases {
            let p = Problem(n: c.n, heads: c.heads, kvHeads: c.kv, headDim: c.hd, seed: rng.next())
            let map: PositionMap = c.g == 1 ? PlainPositions() : try SelfExtendPositions(groupSize: c.g, window: c.w)
            let ref = Self.reference(p, map: map, slidingWindow: c.sw)
            // The block formats: KVQuantizationTests.
            for type in [KVElementType.f32, .f16] {
                let got = Self.engine(p, map: map, chunks: c.chunks, elementType: type, slidingWindow: c.sw)
                XCTAssertLessThan(Self.maxDiff(got, ref), type == .f32 ? 2e-5 : 3e-3,
                                  "N=\(c.n) G=\(c.g) W=\(c.w) SW=\(c.sw) heads \(c.heads)/\(c.kv) D=\(c.hd) \(type)")
            }
        }
    }
}
