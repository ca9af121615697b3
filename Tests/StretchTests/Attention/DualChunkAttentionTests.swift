import Foundation
import Stretch
import XCTest

/// Dual Chunk Attention and STRING in the attention kernel against naive per-(query, key) references
/// written here from the rules in ../shared/golden/DCA.md and the STRING paper, in Double: every pair's
/// query and key positions are chosen pair by pair, then one causal softmax per row.
final class DualChunkAttentionTests: XCTestCase {
    typealias Problem = ExactAttentionTests.Problem

    /// `positions(i, j)` gives the RoPE positions (query, key) of the pair; `temperature` multiplies logits.
    static func reference(
        _ p: Problem, temperature: Double = 1, rowScale: (Int) -> Double = { _ in 1 },
        positions: (Int, Int) -> (Double, Double)
    ) -> [Double] {
        let hd = p.headDim
        let group = p.heads / p.kvHeads
        var out = [Double](repeating: 0, count: p.n * p.heads * hd)
        for h in 0..<p.heads {
            let kvh = h / group
            func qv(_ i: Int) -> ArraySlice<Float> { p.q[((i * p.heads + h) * hd)..<((i * p.heads + h + 1) * hd)] }
            func kv(_ j: Int) -> ArraySlice<Float> { p.k[((j * p.kvHeads + kvh) * hd)..<((j * p.kvHeads + kvh + 1) * hd)] }
            for i in 0..<p.n {
                let logits = (0...i).map { j -> Double in
                    let (qp, kp) = positions(i, j)
                    let q = ExactAttentionTests.rotate(qv(i), position: qp)
                    let k = ExactAttentionTests.rotate(kv(j), position: kp)
                    return rowScale(i) * temperature * zip(q, k).map(*).reduce(0, +) / Double(hd).squareRoot()
                }
                let m = logits.max()!
                let e = logits.map { exp($0 - m) }
                let s = e.reduce(0, +)
                for j in 0...i {
                    for d in 0..<hd {
                        out[(i * p.heads + h) * hd + d] += e[j] / s * Double(p.v[(j * p.kvHeads + kvh) * hd + d])
                    }
                }
            }
        }
        return out
    }

    /// The DCA table: chunks of `cl = C − L` from 0, keys at `j mod cl`; the query at `i mod cl` (same
    /// chunk), `min(i mod cl + cl, C)` (previous chunk) or `min(2·cl − 1, C)` (older chunks).
    static func dcaPositions(chunk c: Int, local l: Int) -> (Int, Int) -> (Double, Double) {
        let cl = c - l
        return { i, j in
            let ci = i / cl, cj = j / cl
            let q: Int
            if ci == cj {
                q = i % cl
            } else if ci == cj + 1 {
                q = min(i % cl + cl, c)
            } else {
                q = min(2 * cl - 1, c)
            }
            return (Double(q), Double(j % cl))
        }
    }

    /// STRING: distances `d ≥ S` become `d − S + W` (query moved back by `S − W`), the rest exact.
    static func stringPositions(shift s: Int, local w: Int) -> (Int, Int) -> (Double, Double) {
        { i, j in (Double(i - j >= s ? i - s + w : i), Double(j)) }
    }

    func testDualChunkAgainstNaiveReference() throws {
        var rng = SeededGenerator(seed: 17)
        // GQA up to 7:1, head dims 8 (row-wise kernel), 24, 64 and 256, L < cl and L > cl (then older
        // chunks use 2·cl − 1 < C), chunk lengths shorter than, equal to and longer than a key tile.
        let cases: [(n: Int, c: Int, l: Int, heads: Int, kv: Int, hd: Int)] = [
            (150, 24, 4, 4, 2, 8), (130, 40, 30, 7, 1, 64), (200, 80, 16, 2, 2, 64), (90, 20, 6, 4, 1, 256),
            (140, 100, 36, 14, 2, 64), (70, 9, 2, 3, 1, 24), (160, 30, 29, 2, 1, 8),
        ]
        for c in cases {
            let p = Problem(n: c.n, heads: c.heads, kvHeads: c.kv, headDim: c.hd, seed: rng.next())
            let map = try PositionSpec.parse("dca:C=\(c.c):L=\(c.l)", trainedContext: 1 << 20)
            let ref = Self.reference(p, positions: Self.dcaPositions(chunk: c.c, local: c.l))
            let got = ExactAttentionTests.engine(p, map: map, chunks: [c.n])
            let d = ExactAttentionTests.maxDiff(got, ref)
            XCTAssertLessThan(d, 2e-5, "N=\(c.n) C=\(c.c) L=\(c.l) heads \(c.heads)/\(c.kv) D=\(c.hd)")
        }
    }

    /// Chunked prefill and token-by-token decode give one-shot prefill's output, for both kernels.
    func testDualChunkChunkedPrefillAndDecodeEqualOneShot() throws {
        for hd in [64, 8] {
            let p = Problem(n: 170, heads: 6, kvHeads: 2, headDim: hd, seed: 3)
            let map = try DualChunkPositions(chunkSize: 48, localWindow: 10)
            let oneShot = ExactAttentionTests.engine(p, map: map, chunks: [170])
            XCTAssertLessThan(
                ExactAttentionTests.maxDiff(oneShot, Self.reference(p, positions: Self.dcaPositions(chunk: 48, local: 10))), 2e-5)
            var rng = SeededGenerator(seed: 5)
            for _ in 0..<3 {
                var chunks: [Int] = []
                var left = 170
                while left > 0 {
                    let c = min(left, Int.random(in: 1...45, using: &rng))
                    chunks.append(c)
                    left -= c
                }
                let chunked = ExactAttentionTests.engine(p, map: map, chunks: chunks)
                XCTAssertLessThan(zip(chunked, oneShot).map { abs($0 - $1) }.max()!, 1e-6, "D=\(hd) chunks \(chunks)")
            }
            let decoded = ExactAttentionTests.engine(p, map: map, chunks: [60] + [Int](repeating: 1, count: 110))
            XCTAssertLessThan(zip(decoded, oneShot).map { abs($0 - $1) }.max()!, 1e-6, "D=\(hd) decode")
        }
    }

    /// The temperature: a cache made for N > P tokens multiplies every logit by `(1 + 0.05·ln(N/P))²`.
    func testDualChunkTemperatureFollowsTheContextSize() throws {
        let p = Problem(n: 100, heads: 4, kvHeads: 2, headDim: 64, seed: 23)
        let map = try DualChunkPositions(chunkSize: 30, localWindow: 5)
        let trained = 40
        let m = 1 + 0.05 * log(100.0 / 40.0)
        let ref = Self.reference(p, temperature: m * m, positions: Self.dcaPositions(chunk: 30, local: 5))
        let got = ExactAttentionTests.engine(p, map: map, chunks: [37, 63], trainedContext: trained)
        XCTAssertLessThan(ExactAttentionTests.maxDiff(got, ref), 2e-5)
        let untempered = Self.reference(p, positions: Self.dcaPositions(chunk: 30, local: 5))
        XCTAssertGreaterThan(ExactAttentionTests.maxDiff(got, untempered), 1e-3, "the temperature must matter here")
        // Within the trained context, or with mscale=0, there is none.
        let off = try PositionSpec.parse("dca:C=30:L=5:mscale=0", trainedContext: trained)
        XCTAssertLessThan(ExactAttentionTests.maxDiff(ExactAttentionTests.engine(p, map: off, chunks: [100], trainedContext: trained), untempered), 2e-5)
        XCTAssertEqual(map.logitTemperature(trainedContext: 100, contextSize: 100), 1)
    }

    /// An F16 cache stays within F16 rounding of the reference.
    func testDualChunkWithF16CacheStaysCloseToTheReference() throws {
        let p = Problem(n: 120, heads: 7, kvHeads: 1, headDim: 64, seed: 41)
        let map = try DualChunkPositions(chunkSize: 40, localWindow: 8)
        let ref = Self.reference(p, positions: Self.dcaPositions(chunk: 40, local: 8))
        let f16 = ExactAttentionTests.engine(p, map: map, chunks: [50, 1, 69], elementType: .f16)
        XCTAssertLessThan(ExactAttentionTests.maxDiff(f16, ref), 3e-3)
        XCTAssertGreaterThan(ExactAttentionTests.maxDiff(f16, ref), 0, "F16 storage should round something")
    }

    /// Huge parameters are errors or exact, never an overflow trap.
    func testExtremeParametersDoNotOverflow() throws {
        XCTAssertThrowsError(try PositionSpec.parse("dca:ORIG=\(Int.max)", trainedContext: 512))
        let wide = try DualChunkPositions(chunkSize: Int.max, localWindow: 1)
        XCTAssertEqual(wide.farQueryPosition(5), Double(Int.max))
        XCTAssertEqual(wide.middleQueryPosition(Int.max - 1), Double(Int.max))
        XCTAssertEqual(DualChunkPositions.defaults(trainedContext: Int.max).chunkSize, Int.max / 4 * 3 + 2)
    }

    /// One key copy: a DCA or STRING cache holds keys and values only.
    func testDualChunkAndStringKeepOneKeyCopy() throws {
        for spec in ["dca:C=30:L=5", "string:S=20:W=4"] {
            let map = try PositionSpec.parse(spec, trainedContext: 64)
            let cache = KVCache(layers: 2, kvHeads: 2, headDim: 16, positions: map, maxTokens: 300)
            let plain = KVCache(layers: 2, kvHeads: 2, headDim: 16, positions: PlainPositions(), maxTokens: 300)
            cache.reserve(10)
            plain.reserve(10)
            XCTAssertEqual(cache.allocatedBytes, plain.allocatedBytes, spec)
        }
    }

    func testStringAgainstNaiveReference() throws {
        var rng = SeededGenerator(seed: 29)
        let cases: [(n: Int, s: Int, w: Int, heads: Int, kv: Int, hd: Int)] = [
            (120, 40, 8, 4, 2, 64), (100, 30, 0, 7, 1, 8), (90, 25, 10, 2, 2, 256), (150, 70, 64, 14, 2, 64),
        ]
        let factor = pow(1 + 0.1 * log(2.0), 2)
        for c in cases {
            let p = Problem(n: c.n, heads: c.heads, kvHeads: c.kv, headDim: c.hd, seed: rng.next())
            let map = try PositionSpec.parse("string:S=\(c.s):W=\(c.w)", trainedContext: 1 << 20)
            let ref = Self.reference(p, temperature: factor, positions: Self.stringPositions(shift: c.s, local: c.w))
            let got = ExactAttentionTests.engine(p, map: map, chunks: [c.n / 3, 1, c.n - c.n / 3 - 1])
            XCTAssertLessThan(ExactAttentionTests.maxDiff(got, ref), 2e-5, "N=\(c.n) S=\(c.s) W=\(c.w) D=\(c.hd)")
            let plainMap = try PositionSpec.parse("string:S=\(c.s):W=\(c.w):mscale=0", trainedContext: 1 << 20)
            let plainRef = Self.reference(p, positions: Self.stringPositions(shift: c.s, local: c.w))
            XCTAssertLessThan(ExactAttentionTests.maxDiff(ExactAttentionTests.engine(p, map: plainMap, chunks: [c.n]), plainRef), 2e-5)
        }
    }

    /// The log-length variants on DCA and Self-Extend: `logn=1` max(1, ln(i+1)/ln L), `logn=entropy` the
    /// same except on layers 0 and 1, `logn=length` ln(i+1).
    func testLogLengthScalingVariantsAgainstNaiveReference() throws {
        let p = Problem(n: 90, heads: 4, kvHeads: 2, headDim: 64, seed: 31)
        let trained = 20
        let logN: (Int) -> Double = { max(1, log(Double($0 + 1)) / log(Double(trained))) }
        let dca = Self.dcaPositions(chunk: 16, local: 4)
        let cases: [(spec: String, layer: Int, scale: (Int) -> Double)] = [
            ("dca:C=16:L=4:mscale=0:logn=1", 0, logN),
            ("dca:C=16:L=4:mscale=0:logn=entropy", 2, logN),
            ("dca:C=16:L=4:mscale=0:logn=entropy", 1, { _ in 1 }),
            ("dca:C=16:L=4:mscale=0:logn=length", 0, { log(Double($0 + 1)) }),
        ]
        for c in cases {
            let map = try PositionSpec.parse(c.spec, trainedContext: trained)
            XCTAssertEqual(map.description, c.spec.replacingOccurrences(of: ":mscale=0:", with: ":mscale=0:"))
            let ref = Self.reference(p, rowScale: c.scale, positions: dca)
            let got = ExactAttentionTests.engine(p, map: map, chunks: [40, 1, 49], trainedContext: trained, layer: c.layer)
            XCTAssertLessThan(ExactAttentionTests.maxDiff(got, ref), 2e-5, "\(c.spec) layer \(c.layer)")
        }
        // The factor matters here (it is not 1 everywhere).
        let plain = Self.reference(p, positions: dca)
        let scaled = ExactAttentionTests.engine(
            p, map: try PositionSpec.parse("dca:C=16:L=4:mscale=0:logn=1", trainedContext: trained), chunks: [90],
            trainedContext: trained)
        XCTAssertGreaterThan(ExactAttentionTests.maxDiff(scaled, plain), 1e-3)
        XCTAssertThrowsError(try PositionSpec.parse("dca:logn=2", trainedContext: trained))
    }

    func testSpecsParseWithDefaultsAndQwenNames() throws {
        let d = try PositionSpec.parse("dca", trainedContext: 512)
        XCTAssertEqual(d.description, "dca:C=384:L=64")
        let q = try PositionSpec.parse(
            "dca:chunk_size=1024:local_size=128:original_max_position_embeddings=1366", trainedContext: 32768)
        XCTAssertEqual(q.description, "dca:C=1024:L=128:ORIG=1366")
        XCTAssertEqual(try PositionSpec.parse(q.description, trainedContext: 32768).description, q.description)
        let o = try PositionSpec.parse("dca:ORIG=4096", trainedContext: 32768)
        XCTAssertEqual(o.description, "dca:C=3072:L=512:ORIG=4096")
        XCTAssertEqual(try PositionSpec.parse("dca:logn=1", trainedContext: 512).description, "dca:C=384:L=64:logn=1")
        XCTAssertEqual(try PositionSpec.parse("string", trainedContext: 32768).description, "string:S=10922:W=128")
        XCTAssertNil(d.maxSequenceLength(trainedContext: 512))
        // Invalid values are typed errors that name the parameter.
        for bad in ["dca:C=512:L=512", "dca:C=600", "dca:C=x", "dca:C=100:chunk_size=100", "dca:mscale=2",
                    "string:S=10:W=10", "string:S=600", "string:W=-1", "dca:G=4"] {
            XCTAssertThrowsError(try PositionSpec.parse(bad, trainedContext: 512), bad) { error in
                XCTAssertTrue(error is PositionError, "\(bad): \(error)")
            }
        }
    }
}
