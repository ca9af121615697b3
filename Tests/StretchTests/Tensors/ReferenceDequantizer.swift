import Foundation
import Stretch

/// Deliberately simple scalar dequantizer written straight from ggml's block layouts, byte by byte,
/// independent of the library code (own f16 decoding, no SIMD, no shared helpers). Tests compare the
/// optimized ``Dequantize`` against it. Operation order follows ggml's scalar reference so results are
/// bit-identical: `d * q`, `q * d + m`, `(d * sc) * q - (dmin * m)`, `(d * sc) * q`.
enum ReferenceDequantizer {
    /// Little-endian u16 at byte `i`.
    static func u16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) | UInt16(b[i + 1]) << 8 }

    /// Little-endian u32 at byte `i`.
    static func u32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }

    /// IEEE binary16 decoded from its definition: (-1)^s × 2^(e-15) × 1.m, or 2^-14 × 0.m if e == 0.
    static func half(_ h: UInt16) -> Float {
        let sign: Float = (h & 0x8000) != 0 ? -1 : 1
        let e = Int((h >> 10) & 0x1F), m = Int(h & 0x3FF)
        if e == 31 { return m == 0 ? sign * .infinity : .nan }
        if e == 0 { return sign * Float(m) / 1024 * pow(2, -14) }
        return sign * (1 + Float(m) / 1024) * Float(pow(2.0, Double(e - 15)))
    }

    /// bfloat16: the upper 16 bits of a binary32.
    static func bhalf(_ h: UInt16) -> Float { Float(bitPattern: UInt32(h) << 16) }

    /// Dequantizes `count` elements from `b` (exactly `type.rowBytes(count)` bytes).
    static func row(_ type: GGMLType, _ b: [UInt8], count: Int) -> [Float] {
        var y = [Float]()
        let blocks = count / type.blockSize
        for blk in 0..<blocks {
            let o = blk * type.blockBytes  // byte offset of this block
            switch type {
            case .f32:  // 4 bytes LE binary32
                y.append(Float(bitPattern: u32(b, o)))
            case .f16:  // 2 bytes LE binary16
                y.append(half(u16(b, o)))
            case .bf16:  // 2 bytes LE bfloat16
                y.append(bhalf(u16(b, o)))
            case .q8_0:
                // [0,2) f16 d | [2,34) int8 q[32]; x_j = d * q_j
                let d = half(u16(b, o))
                for j in 0..<32 { y.append(d * Float(Int8(bitPattern: b[o + 2 + j]))) }
            case .q4_0:
                // [0,2) f16 d | [2,18) qs[16]; x_j = (lo(qs[j]) - 8) d, x_{j+16} = (hi(qs[j]) - 8) d
                let d = half(u16(b, o))
                var block = [Float](repeating: 0, count: 32)
                for j in 0..<16 {
                    block[j] = Float(Int(b[o + 2 + j] & 0x0F) - 8) * d
                    block[j + 16] = Float(Int(b[o + 2 + j] >> 4) - 8) * d
                }
                y += block
            case .q4_1:
                // [0,2) f16 d | [2,4) f16 m | [4,20) qs[16]; x = q d + m (nibbles as Q4_0)
                let d = half(u16(b, o)), m = half(u16(b, o + 2))
                var block = [Float](repeating: 0, count: 32)
                for j in 0..<16 {
                    block[j] = Float(b[o + 4 + j] & 0x0F) * d + m
                    block[j + 16] = Float(b[o + 4 + j] >> 4) * d + m
                }
                y += block
            case .q5_0:
                // [0,2) f16 d | [2,6) u32 qh | [6,22) qs[16]; 5th bit of element j is bit j of qh
                // (element j+16 uses bit j+16); x = (q - 16) d
                let d = half(u16(b, o)), qh = u32(b, o + 2)
                var block = [Float](repeating: 0, count: 32)
                for j in 0..<16 {
                    let lo = Int(b[o + 6 + j] & 0x0F) | Int((qh >> UInt32(j)) & 1) << 4
                    let hi = Int(b[o + 6 + j] >> 4) | Int((qh >> UInt32(j + 16)) & 1) << 4
                    block[j] = Float(lo - 16) * d
                    block[j + 16] = Float(hi - 16) * d
                }
                y += block
            case .q5_1:
                // [0,2) f16 d | [2,4) f16 m | [4,8) u32 qh | [8,24) qs[16]; x = q d + m
                let d = half(u16(b, o)), m = half(u16(b, o + 2)), qh = u32(b, o + 4)
                var block = [Float](repeating: 0, count: 32)
                for j in 0..<16 {
                    let lo = Int(b[o + 8 + j] & 0x0F) | Int((qh >> UInt32(j)) & 1) << 4
                    let hi = Int(b[o + 8 + j] >> 4) | Int((qh >> UInt32(j + 16)) & 1) << 4
                    block[j] = Float(lo) * d + m
                    block[j + 16] = Float(hi) * d + m
                }
                y += block
            case .q4_K, .q5_K:
                // [0,2) f16 d | [2,4) f16 dmin | [4,16) 6-bit scales/mins | (Q5_K: [16,48) qh[32]) | qs[128]
                let d = half(u16(b, o)), dmin = half(u16(b, o + 2))
                let s = Array(b[(o + 4)..<(o + 16)])
                let is5 = type == .q5_K
                let qs = o + (is5 ? 48 : 16), qhOff = o + 16
                for sub in 0..<8 {
                    let (sc, mn) = scaleMin(s, sub)
                    let chunk = sub / 2, high = sub % 2 == 1  // 64-element chunk; odd sub-blocks use high nibbles
                    for l in 0..<32 {
                        let byte = b[qs + 32 * chunk + l]
                        var q = Int(high ? byte >> 4 : byte & 0x0F)
                        if is5 { q |= Int((b[qhOff + l] >> UInt8(sub)) & 1) << 4 }  // bit `sub` of qh[l]
                        y.append((d * Float(sc)) * Float(q) - (dmin * Float(mn)))
                    }
                }
            case .q6_K:
                // [0,128) ql | [128,192) qh | [192,208) int8 scales[16] | [208,210) f16 d
                let d = half(u16(b, o + 208))
                var block = [Float](repeating: 0, count: 256)
                for e in 0..<256 {
                    let n = e / 128, r = e % 128, k = r / 32, l = r % 32  // half, quarter, lane
                    let qlByte = b[o + 64 * n + l + (k % 2 == 1 ? 32 : 0)]
                    let low = Int(k < 2 ? qlByte & 0x0F : qlByte >> 4)
                    let high = Int((b[o + 128 + 32 * n + l] >> UInt8(2 * k)) & 3)
                    let sc = Int8(bitPattern: b[o + 192 + e / 16])
                    block[e] = (d * Float(sc)) * Float((low | high << 4) - 32)
                }
                y += block
            case .q2_K:
                // [0,16) scales (lo nibble scale, hi nibble min, per 16 elements) | [16,80) qs | f16 d | f16 dmin
                let d = half(u16(b, o + 80)), dmin = half(u16(b, o + 82))
                for e in 0..<256 {
                    let n = e / 128, k = (e % 128) / 32, l = e % 32  // half, 2-bit group, lane
                    let q = Int((b[o + 16 + 32 * n + l] >> UInt8(2 * k)) & 3)
                    let sm = b[o + e / 16]
                    y.append((d * Float(sm & 15)) * Float(q) - (dmin * Float(sm >> 4)))
                }
            case .q3_K:
                // [0,32) hmask | [32,96) qs (2 bits) | [96,108) 6-bit scales | [108,110) f16 d
                let d = half(u16(b, o + 108))
                for e in 0..<256 {
                    let n = e / 128, k = (e % 128) / 32, l = e % 32
                    let low = Int((b[o + 32 + 32 * n + l] >> UInt8(2 * k)) & 3)
                    let set = (b[o + l] >> UInt8(e / 32)) & 1 == 1
                    let i = e / 16  // sub-block: 4 low bits in byte i % 8 (nibble i / 8), 2 high in byte 8 + i % 4
                    let lowScale = Int(i < 8 ? b[o + 96 + i] & 15 : b[o + 96 + i - 8] >> 4)
                    let highScale = Int((b[o + 104 + i % 4] >> UInt8(2 * (i / 4))) & 3)
                    let sc = (lowScale | highScale << 4) - 32
                    y.append((d * Float(sc)) * Float(set ? low : low - 4))
                }
            case .iq4_nl:
                // [0,2) f16 d | [2,18) qs[16]; element j = grid[lo(qs[j])], j + 16 = grid[hi(qs[j])]
                let d = half(u16(b, o))
                var block = [Float](repeating: 0, count: 32)
                for j in 0..<16 {
                    block[j] = d * Float(iq4Grid[Int(b[o + 2 + j] & 15)])
                    block[j + 16] = d * Float(iq4Grid[Int(b[o + 2 + j] >> 4)])
                }
                y += block
            case .iq4_xs:
                // [0,2) f16 d | [2,4) u16 scales_h | [4,8) scales_l | [8,136) qs; sub-block j: 32 elements
                let d = half(u16(b, o)), sh = Int(u16(b, o + 2))
                for j in 0..<8 {
                    let sl = Int(b[o + 4 + j / 2] >> UInt8(4 * (j % 2))) & 15
                    let ls = (sl | ((sh >> (2 * j)) & 3) << 4) - 32
                    var block = [Float](repeating: 0, count: 32)
                    for i in 0..<16 {
                        let q = b[o + 8 + 16 * j + i]
                        block[i] = (d * Float(ls)) * Float(iq4Grid[Int(q & 15)])
                        block[i + 16] = (d * Float(ls)) * Float(iq4Grid[Int(q >> 4)])
                    }
                    y += block
                }
            }
        }
        return y
    }

    /// ggml's `kvalues_iq4nl`: the 16 levels of IQ4_NL and IQ4_XS.
    static let iq4Grid: [Int] = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113]

    /// 6-bit (scale, min) of sub-block j from the 12-byte K-quant table: j < 4 in the low 6 bits of bytes
    /// j and j+4; j >= 4 has low 4 bits in byte j+4 (scale: low nibble, min: high nibble) and top 2 bits in
    /// bits 6-7 of byte j-4 (scale) and byte j (min).
    static func scaleMin(_ s: [UInt8], _ j: Int) -> (Int, Int) {
        if j < 4 { return (Int(s[j] & 63), Int(s[j + 4] & 63)) }
        let sc = Int(s[j + 4] & 0x0F) | Int(s[j - 4] >> 6) << 4
        let mn = Int(s[j + 4] >> 4) | Int(s[j] >> 6) << 4
        return (sc, mn)
    }
}
