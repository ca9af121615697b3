import XCTest
import Stretch

/// Optimized dequantizer vs the byte-by-byte reference on random raw blocks, for every type.
final class DequantizeTests: XCTestCase {
    /// Bitwise equality, treating any two NaNs as equal (NaN payload/quieting may differ for raw F16).
    static func same(_ a: Float, _ b: Float) -> Bool { a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }

    func testRandomBlocksMatchReferenceForAllTypes() {
        var g = SplitMix64(seed: 1)
        for type in GGMLType.allCases {
            for count in [type.blockSize * 4, 1024] {  // 1024 also exercises the 16-wide float-format loops + tails
                for _ in 0..<5 {
                    let n = type.blockSize == 1 ? count + 7 : count  // odd length for F32/F16/BF16 tails
                    let bytes = TestData.randomRow(type, count: n, &g)
                    let expected = ReferenceDequantizer.row(type, bytes, count: n)
                    let got = TestData.dequantize(type, bytes, count: n)
                    XCTAssertEqual(expected.count, n)
                    let bad = (0..<n).first { !Self.same(expected[$0], got[$0]) }
                    XCTAssertNil(bad, "\(type): element \(bad ?? -1): expected \(bad.map { expected[$0] } ?? 0), got \(bad.map { got[$0] } ?? 0)")
                }
            }
        }
    }

    /// Hand-built blocks checking documented layout facts directly (not via the reference).
    func testKnownLayoutFacts() {
        // Q5_0: d = 1, qh bit j set only for j = 3 and j = 20; qs[3] = 0x21 → element 3 = (1|16)-16 = 1,
        // element 19 = 2 - 16 = -14, element 20 = (0|16)-16 = 0, others -16.
        var q5 = [UInt8](repeating: 0, count: 22)
        q5[0] = 0x00; q5[1] = 0x3C  // f16 1.0
        let qh: UInt32 = (1 << 3) | (1 << 20)
        for i in 0..<4 { q5[2 + i] = UInt8((qh >> (8 * UInt32(i))) & 0xFF) }
        q5[6 + 3] = 0x21
        let y5 = TestData.dequantize(.q5_0, q5, count: 32)
        XCTAssertEqual(y5[3], 1); XCTAssertEqual(y5[19], -14); XCTAssertEqual(y5[20], 0); XCTAssertEqual(y5[0], -16)

        // Q6_K: d = 0.5, all scales 2, ql = 0x5A everywhere, qh = 0b11_10_01_00 → quarters get high bits
        // 0,1,2,3: q = (0xA|0<<4)-32 = -22, (0xA|1<<4)-32 = -6, (0x5|2<<4)-32 = 5, (0x5|3<<4)-32 = 21.
        var q6 = [UInt8](repeating: 0x5A, count: 210)
        for i in 128..<192 { q6[i] = 0b1110_0100 }
        for i in 192..<208 { q6[i] = 2 }
        q6[208] = 0x00; q6[209] = 0x38  // f16 0.5
        let y6 = TestData.dequantize(.q6_K, q6, count: 256)
        for n in 0..<2 {
            XCTAssertEqual(y6[128 * n + 0], -22); XCTAssertEqual(y6[128 * n + 32], -6)
            XCTAssertEqual(y6[128 * n + 64], 5); XCTAssertEqual(y6[128 * n + 127], 21)
        }

        // Q4_K: d = 1, dmin = 1, scale j = j+1, min j = 0 except min 5 = 3; qs low nibble 1, high 2.
        var q4 = [UInt8](repeating: 0, count: 144)
        q4[1] = 0x3C; q4[3] = 0x3C
        let sc = (1...8).map { $0 }, mn = [0, 0, 0, 0, 0, 3, 0, 0]
        for j in 0..<4 {
            q4[4 + j] = UInt8(sc[j] | (sc[j + 4] >> 4) << 6)
            q4[8 + j] = UInt8(mn[j] | (mn[j + 4] >> 4) << 6)
            q4[12 + j] = UInt8((sc[j + 4] & 15) | (mn[j + 4] & 15) << 4)
        }
        for i in 16..<144 { q4[i] = 0x21 }
        let y4 = TestData.dequantize(.q4_K, q4, count: 256)
        for sub in 0..<8 {
            let q: Float = sub % 2 == 0 ? 1 : 2
            XCTAssertEqual(y4[32 * sub + 7], Float(sc[sub]) * q - Float(mn[sub]), "Q4_K sub-block \(sub)")
        }
    }
}
