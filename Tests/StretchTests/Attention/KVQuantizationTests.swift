import Foundation
import Stretch
import XCTest

/// The Q8_0 and Q4_0 KV cache (`-ctk/-ctv`): storage byte for byte as the `gguf` package's quantizers (which
/// follow llama.cpp's reference ones) make it, and attention over it equal to the naive reference run on the
/// stored (rounded) keys and values, with keys and values in different formats.
final class KVQuantizationTests: XCTestCase {
    static let rows = 8, rowLength = 128

    static func fixture(_ name: String) throws -> URL {
        TestFiles.repositoryRoot.appendingPathComponent("Tests/StretchTests/Attention/Fixtures/\(name)")
    }

    func testStorageIsByteExactWithTheGGUFQuantizers() throws {
        let input = try TestFiles.floats(Self.fixture("kv.f32").path)
        XCTAssertEqual(input.count, Self.rows * Self.rowLength)
        for type in [KVElementType.q8_0, .q4_0] {
            let bytes = [UInt8](try Data(contentsOf: Self.fixture("kv_\(type.rawValue).bin")))
            let floats = try TestFiles.floats(Self.fixture("kv_\(type.rawValue).f32").path)
            let rowBytes = type.rowBytes(headDim: Self.rowLength)
            XCTAssertEqual(bytes.count, Self.rows * rowBytes, "\(type) fixture size")
            for r in 0..<Self.rows {
                let x = Array(input[(r * Self.rowLength)..<((r + 1) * Self.rowLength)])
                let want = Array(bytes[(r * rowBytes)..<((r + 1) * rowBytes)])
                let got = type.encode(x)
                let bad = (0..<rowBytes).first { got[$0] != want[$0] }
                XCTAssertNil(bad, "\(type) row \(r) byte \(bad ?? -1): gguf \(bad.map { want[$0] } ?? 0), got \(bad.map { got[$0] } ?? 0)")
                let back = type.decode(want, count: Self.rowLength)
                XCTAssertEqual(back.map(\.bitPattern), floats[(r * Self.rowLength)..<((r + 1) * Self.rowLength)].map(\.bitPattern),
                               "\(type) row \(r): decoded values differ from the gguf dequantizer")
            }
        }
    }

    /// Every load path of the kernels (16 lanes at an offset, 8 lanes, dot, axpy) against the plain decode.
    func testKernelAccessorsAgreeWithDecode() throws {
        var rng = SeededGenerator(seed: 5)
        let n = 96
        let x = (0..<n).map { _ in Float.random(in: -2...2, using: &rng) }
        let q = (0..<n).map { _ in Float.random(in: -1...1, using: &rng) }
        func check<E: KVElement>(_: E.Type, _ type: KVElementType) {
            let stored = type.encode(x)
            let decoded = type.decode(stored, count: n)
            stored.withUnsafeBytes { s in
                let p = s.baseAddress!
                for offset in stride(from: 0, to: n, by: 16) {
                    let v = E.load16(p, offset)
                    XCTAssertEqual((0..<16).map { v[$0] }, Array(decoded[offset..<(offset + 16)]), "\(type) load16 @\(offset)")
                }
                let v8 = E.load8(p)
                XCTAssertEqual((0..<8).map { v8[$0] }, Array(decoded[0..<8]), "\(type) load8")
                let dot = q.withUnsafeBufferPointer { E.dot($0.baseAddress!, p, n) }
                let want = zip(q, decoded).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                XCTAssertEqual(Double(dot), want, accuracy: 1e-4, "\(type) dot")
                var y = q
                y.withUnsafeMutableBufferPointer { E.axpy(0.75, p, $0.baseAddress!, n) }
                for i in 0..<n { XCTAssertEqual(y[i], q[i] + 0.75 * decoded[i], accuracy: 1e-5, "\(type) axpy \(i)") }
            }
        }
        check(Q8_0Element.self, .q8_0)
        check(Q4_0Element.self, .q4_0)
    }

    /// Prefill, chunked prefill and token-by-token decode, GQA, Self-Extend's two key copies and a sliding
    /// window, for each pair of key and value formats, against the naive reference on the stored values.
    func testAttentionOverQuantizedCacheEqualsTheReferenceOnStoredValues() throws {
        typealias T = ExactAttentionTests
        var rng = SeededGenerator(seed: 31)
        let cases: [(n: Int, g: Int, w: Int, sw: Int, heads: Int, kv: Int, hd: Int, chunks: [Int])] = [
            (90, 1, 1, Int.max, 4, 2, 64, [90]), (120, 4, 24, Int.max, 7, 1, 64, [50, 1, 69]),
            (100, 3, 20, 40, 2, 2, 128, [33, 67]), (70, 2, 16, Int.max, 2, 1, 32, [1, 1, 1, 67]),
        ]
        let pairs: [(KVElementType, KVElementType)] = [
            (.q8_0, .q8_0), (.q4_0, .q4_0), (.q8_0, .f16), (.f16, .q4_0), (.q4_0, .q8_0), (.f32, .q8_0),
        ]
        func roundTrip(_ type: KVElementType) -> ([Double]) -> [Double] {
            { x in type.decode(type.encode(x.map(Float.init)), count: x.count).map(Double.init) }
        }
        // Block-format keys are stored turned by H₃₂/√32 per block (queries turn with them): the stored key,
        // seen from the unturned queries, is H · roundTrip(H · k) (H is its own inverse).
        func storedKey(_ type: KVElementType) -> ([Double]) -> [Double] {
            type.blockSize == 1 ? roundTrip(type) : { x in Self.hadamard(roundTrip(type)(Self.hadamard(x))) }
        }
        for c in cases {
            let p = T.Problem(n: c.n, heads: c.heads, kvHeads: c.kv, headDim: c.hd, seed: rng.next())
            let map: PositionMap = c.g == 1 ? PlainPositions() : try SelfExtendPositions(groupSize: c.g, window: c.w)
            let exact = T.reference(p, map: map, slidingWindow: c.sw)
            for (k, v) in pairs {
                let ref = T.reference(p, map: map, slidingWindow: c.sw, storedKey: storedKey(k), storedValue: roundTrip(v))
                let got = T.engine(p, map: map, chunks: c.chunks, elementType: k, valueType: v, slidingWindow: c.sw)
                let label = "N=\(c.n) G=\(c.g) W=\(c.w) SW=\(c.sw) heads \(c.heads)/\(c.kv) D=\(c.hd) K \(k) V \(v)"
                XCTAssertLessThan(T.maxDiff(got, ref), 5e-5, label)
                // The storage does round: the result differs from attention on the exact inputs.
                XCTAssertGreaterThan(T.maxDiff(got, exact), 1e-4, label)
            }
        }
    }

    /// Sylvester's Hadamard matrix of order 32 over each block of 32, divided by √32, written as a plain
    /// matrix product (the engine uses a butterfly transform).
    static func hadamard(_ x: [Double]) -> [Double] {
        // H[i][j] = (−1)^popcount(i & j).
        var out = [Double](repeating: 0, count: x.count)
        for b in stride(from: 0, to: x.count, by: 32) {
            for i in 0..<32 {
                var s = 0.0
                for j in 0..<32 { s += ((i & j).nonzeroBitCount % 2 == 0 ? 1 : -1) * x[b + j] }
                out[b + i] = s / Double(32).squareRoot()
            }
        }
        return out
    }

    /// The Hadamard turn keeps a key with one outlying dimension: without it the outlier sets its block's Q8_0
    /// scale and the other 31 elements keep a few levels (numpy with the `gguf` quantizers: the error falls to
    /// 0.21 of the unturned one on average over 200 such keys, at most 0.30).
    func testKeyRotationKeepsAnOutlyingDimension() throws {
        var rng = SeededGenerator(seed: 3)
        var key = (0..<64).map { _ in Double.random(in: -1...1, using: &rng) }
        key[5] = 60
        func error(_ stored: [Double]) -> Double { zip(stored, key).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot() }
        let plain = KVElementType.q8_0.decode(KVElementType.q8_0.encode(key.map(Float.init)), count: 64).map(Double.init)
        let turned = Self.hadamard(KVElementType.q8_0.decode(
            KVElementType.q8_0.encode(Self.hadamard(key).map(Float.init)), count: 64).map(Double.init))
        XCTAssertLessThan(error(turned), error(plain) / 2, "plain \(error(plain)), turned \(error(turned))")
    }

    /// The cache's own byte count follows the formats: Q8_0 is 34 bytes and Q4_0 18 per 32 elements.
    func testBytesPerToken() throws {
        let map = try SelfExtendPositions(groupSize: 4, window: 16)
        let cache = KVCache(layers: 3, kvHeads: 2, headDim: 64, positions: map, maxTokens: 10, keyType: .q8_0, valueType: .q4_0)
        // Per token: far keys and values; near keys in a ring (W − 1 + a pass, whole tiles), here capped at
        // the 10 tokens the cache can hold.
        XCTAssertEqual(cache.bytesPerToken, 3 * 2 * (68 + 36))
        XCTAssertEqual(cache.footprint.rings, [KVCacheFootprint.Ring(slots: 320, bytesPerSlot: 3 * 2 * 68)])
        cache.reserve(1)
        XCTAssertEqual(cache.allocatedBytes, 10 * 3 * 2 * (2 * 68 + 36), "capacity is capped at maxTokens")
        XCTAssertEqual(Int(cache.footprint.bytes(tokens: 10)), cache.allocatedBytes)
        let plain = KVCache.footprint(layerKinds: [.global], kvHeads: 1, headDim: 64, keyType: .f16, valueType: .f32,
                                      positions: PlainPositions(), chunkTokens: 256)
        XCTAssertEqual(plain.bytesPerToken, 2 * 64 + 4 * 64)
        XCTAssertEqual(plain.rings, [])
    }

    /// A head width the blocks cannot tile (stories260K: 8) is refused at load, naming the numbers.
    func testBlockFormatsNeedHeadsOfThirtyTwo() throws {
        let path = try TestFiles.shared("models/stories260K.gguf")
        for type in [KVElementType.q8_0, .q4_0] {
            XCTAssertThrowsError(try LlamaModel(file: GGUFFile(path: path), options: LoadOptions(threads: 1, kvValueType: type))) {
                XCTAssertEqual("\($0)", "invalid KV cache value type \(type.rawValue): its blocks of 32 need a head width that is a "
                               + "multiple of 32; this model's is 8 (use f16 or f32)")
            }
        }
    }
}
