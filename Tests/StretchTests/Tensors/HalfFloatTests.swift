import XCTest
import Stretch

/// F16 / BF16 conversions, exhaustively where cheap.
final class HalfFloatTests: XCTestCase {
    func testF16ToF32AllPatterns() {
        for bits in 0...UInt16.max {
            let expected = ReferenceDequantizer.half(bits)
            let got = HalfFloat.f16ToF32(bits), soft = HalfFloat.softF16ToF32(bits)
            if expected.isNaN {
                XCTAssertTrue(got.isNaN && soft.isNaN, "NaN \(bits)")
            } else {
                XCTAssertEqual(got.bitPattern, expected.bitPattern, "f16 \(String(bits, radix: 16))")
                XCTAssertEqual(soft.bitPattern, expected.bitPattern, "soft f16 \(String(bits, radix: 16))")
            }
        }
    }

    func testF32ToF16RoundTripAndRounding() {
        for bits in 0...UInt16.max {
            let f = HalfFloat.f16ToF32(bits)
            if f.isNaN {
                XCTAssertTrue(HalfFloat.f16ToF32(HalfFloat.f32ToF16(f)).isNaN)
                XCTAssertTrue(HalfFloat.f16ToF32(HalfFloat.softF32ToF16(f)).isNaN)
                continue
            }
            XCTAssertEqual(HalfFloat.f32ToF16(f), bits)
            XCTAssertEqual(HalfFloat.softF32ToF16(f), bits)
            // Midpoint to the next half (same sign, magnitude up) must round to the even neighbour,
            // and anything just above the midpoint must round away.
            let magnitude = bits & 0x7FFF
            if magnitude < 0x7C00 - 1 {
                let next = HalfFloat.f16ToF32(bits + 1)
                let mid = (Double(f) + Double(next)) / 2
                let midF = Float(mid)
                XCTAssertEqual(Double(midF), mid)  // midpoints are exact in binary32
                let even = (bits & 1) == 0 ? bits : bits + 1
                XCTAssertEqual(HalfFloat.f32ToF16(midF), even, "midpoint after \(String(bits, radix: 16))")
                XCTAssertEqual(HalfFloat.softF32ToF16(midF), even, "soft midpoint after \(String(bits, radix: 16))")
                let above = midF.magnitude.nextUp * (midF.sign == .minus ? -1 : 1)
                XCTAssertEqual(HalfFloat.f32ToF16(above), bits + 1)
                XCTAssertEqual(HalfFloat.softF32ToF16(above), bits + 1)
            }
        }
        // Overflow and edge values.
        for conv in [HalfFloat.f32ToF16, HalfFloat.softF32ToF16] {
            XCTAssertEqual(conv(65504), 0x7BFF)
            XCTAssertEqual(conv(65520), 0x7C00)  // halfway to 2^16 rounds to infinity
            XCTAssertEqual(conv(65519.99), 0x7BFF)
            XCTAssertEqual(conv(1e10), 0x7C00)
            XCTAssertEqual(conv(-.infinity), 0xFC00)
            XCTAssertEqual(conv(-0.0), 0x8000)
            XCTAssertEqual(conv(0x1p-24), 0x0001)  // smallest subnormal
            XCTAssertEqual(conv(0x1p-25), 0x0000)  // tie → even (zero)
            XCTAssertEqual(conv(0x1.8p-24), 0x0002)  // tie → even (2)
            XCTAssertEqual(conv(0x1p-26), 0x0000)
        }
    }

    func testBF16() {
        for bits in stride(from: 0, through: Int(UInt16.max), by: 1) {
            let h = UInt16(bits)
            let f = HalfFloat.bf16ToF32(h)
            XCTAssertEqual(f.bitPattern, UInt32(h) << 16)
            if f.isNaN { XCTAssertTrue(HalfFloat.bf16ToF32(HalfFloat.f32ToBF16(f)).isNaN) } else { XCTAssertEqual(HalfFloat.f32ToBF16(f), h) }
        }
        XCTAssertEqual(HalfFloat.f32ToBF16(Float(bitPattern: 0x3F80_8000)), 0x3F80)  // tie → even
        XCTAssertEqual(HalfFloat.f32ToBF16(Float(bitPattern: 0x3F81_8000)), 0x3F82)  // tie → even (up)
        XCTAssertEqual(HalfFloat.f32ToBF16(Float(bitPattern: 0x3F80_8001)), 0x3F81)
        XCTAssertEqual(HalfFloat.f32ToBF16(Float(bitPattern: 0x7F7F_FFFF)), 0x7F80)  // rounds to infinity
        XCTAssertTrue(HalfFloat.bf16ToF32(HalfFloat.f32ToBF16(Float(bitPattern: 0x7F80_0001))).isNaN)  // payload only in low bits
    }
}
