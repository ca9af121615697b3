/// Simple reference quantizers for every ``GGMLType``, producing valid ggml blocks.
///
/// These are straightforward min/max (or max-abs) quantizers, not llama.cpp's error-minimizing search:
/// they exist so tests and tools can build random-weight GGUF models and round-trip check the readers.
/// Scales are rounded to f16 (or 6/8-bit sub-scales) *before* the quants are chosen, so the quants are
/// computed against exactly the scale the dequantizer will see. Not tuned for speed.
package enum Quantize {
    /// Quantizes `count` floats (a multiple of `type.blockSize`) into `type.rowBytes(count)` bytes.
    package static func row(_ type: GGMLType, _ src: UnsafePointer<Float>, count: Int) -> [UInt8] {
        precondition(count >= 0 && count % type.blockSize == 0, "count \(count) is not a multiple of \(type) block size")
        var out = [UInt8](repeating: 0, count: type.rowBytes(count))
        out.withUnsafeMutableBytes { buffer in
            guard let dst = buffer.baseAddress else { return }
            let blocks = count / type.blockSize
            for b in 0..<blocks {
                let x = src + b * type.blockSize
                let p = dst + b * type.blockBytes
                switch type {
                case .f32: p.storeBytes(of: x[0].bitPattern.littleEndian, as: UInt32.self)
                case .f16: p.storeBytes(of: HalfFloat.f32ToF16(x[0]).littleEndian, as: UInt16.self)
                case .bf16: p.storeBytes(of: HalfFloat.f32ToBF16(x[0]).littleEndian, as: UInt16.self)
                case .q8_0: q8_0(x, p)
                case .q4_0: symmetric(x, p, bits: 4)
                case .q5_0: symmetric(x, p, bits: 5)
                case .q4_1: affine(x, p, bits: 4)
                case .q5_1: affine(x, p, bits: 5)
                case .q4_K: kAffine(x, p, bits: 4)
                case .q5_K: kAffine(x, p, bits: 5)
                case .q6_K: q6_K(x, p)
                case .q2_K: q2_K(x, p)
                case .q3_K: q3_K(x, p)
                case .iq4_nl: iq4_nl(x, p)
                case .iq4_xs: iq4_xs(x, p)
                }
            }
        }
        return out
    }

    /// Convenience overload for arrays.
    package static func row(_ type: GGMLType, _ src: [Float]) -> [UInt8] {
        src.withUnsafeBufferPointer { row(type, $0.baseAddress!, count: $0.count) }
    }

    // MARK: - Helpers

    /// Stores `value` as little-endian f16 and returns the value actually stored (after rounding).
    private static func storeHalf(_ value: Float, _ p: UnsafeMutableRawPointer, _ offset: Int) -> Float {
        let bits = HalfFloat.f32ToF16(value)
        p.storeBytes(of: bits.littleEndian, toByteOffset: offset, as: UInt16.self)
        return HalfFloat.f16ToF32(bits)
    }

    /// Round-to-nearest integer clamped to `lo...hi`; a non-finite input (e.g. from a zero scale) yields `lo`.
    private static func quant(_ v: Float, _ lo: Int, _ hi: Int) -> Int {
        guard v.isFinite else { return lo }
        return min(hi, max(lo, Int(v.rounded(.toNearestOrAwayFromZero))))
    }

    /// Writes 32 quants (each < 32) as Q4/Q5 32-block nibbles: element j low nibble of qs[j], j+16 high;
    /// bit 4 of element j goes to bit j of the returned qh.
    private static func pack32(_ q: [Int], _ qs: UnsafeMutableRawPointer) -> UInt32 {
        var qh: UInt32 = 0
        for j in 0..<16 {
            qs.storeBytes(of: UInt8(q[j] & 15) | UInt8(q[j + 16] & 15) << 4, toByteOffset: j, as: UInt8.self)
            qh |= UInt32((q[j] >> 4) & 1) << j
            qh |= UInt32((q[j + 16] >> 4) & 1) << (j + 16)
        }
        return qh
    }

    // MARK: - 32-element blocks

    /// Q8_0: d = max|x| / 127, q = round(x / d).
    private static func q8_0(_ x: UnsafePointer<Float>, _ p: UnsafeMutableRawPointer) {
        var amax: Float = 0
        for i in 0..<32 { amax = max(amax, abs(x[i])) }
        let d = storeHalf(amax / 127, p, 0)
        let id: Float = d != 0 ? 1 / d : 0
        for i in 0..<32 {
            p.storeBytes(of: Int8(quant(x[i] * id, -127, 127)), toByteOffset: 2 + i, as: Int8.self)
        }
    }

    /// Q4_0 / Q5_0: the largest-magnitude value maps to the most negative quant (d = vmax / -2^(bits-1)),
    /// as ggml does, so the opposite sign can reach one step short of its extreme.
    private static func symmetric(_ x: UnsafePointer<Float>, _ p: UnsafeMutableRawPointer, bits: Int) {
        let half = 1 << (bits - 1)
        var vmax: Float = 0
        for i in 0..<32 where abs(x[i]) > abs(vmax) { vmax = x[i] }
        let d = storeHalf(vmax / -Float(half), p, 0)
        let id: Float = d != 0 ? 1 / d : 0
        let q = (0..<32).map { quant(x[$0] * id + Float(half), 0, 2 * half - 1) }
        if bits == 4 {
            _ = pack32(q, p + 2)
        } else {
            let qh = pack32(q, p + 6)
            p.storeBytes(of: qh.littleEndian, toByteOffset: 2, as: UInt32.self)
        }
    }

    /// Q4_1 / Q5_1: x ≈ q * d + m with m = min, d = (max - min) / (2^bits - 1).
    private static func affine(_ x: UnsafePointer<Float>, _ p: UnsafeMutableRawPointer, bits: Int) {
        let levels = (1 << bits) - 1
        var lo = x[0], hi = x[0]
        for i in 0..<32 { lo = min(lo, x[i]); hi = max(hi, x[i]) }
        let d = storeHalf((hi - lo) / Float(levels), p, 0)
        let m = storeHalf(lo, p, 2)
        let id: Float = d != 0 ? 1 / d : 0
        let q = (0..<32).map { quant((x[$0] - m) * id, 0, levels) }
        if bits == 4 {
            _ = pack32(q, p + 4)
        } else {
            let qh = pack32(q, p + 8)
            p.storeBytes(of: qh.littleEndian, toByteOffset: 4, as: UInt32.self)
        }
    }

    // MARK: - K-quants

    /// Q4_K / Q5_K: per 32-element sub-block x ≈ (d * sc) * q - (dmin * m) with 6-bit sc, m.
    /// Sub-block ranges always include 0 (min ≤ 0), matching ggml, so m is a non-negative offset.
    private static func kAffine(_ x: UnsafePointer<Float>, _ p: UnsafeMutableRawPointer, bits: Int) {
        let levels = Float((1 << bits) - 1)
        var scale = [Float](repeating: 0, count: 8), offset = [Float](repeating: 0, count: 8)
        for j in 0..<8 {
            var lo: Float = 0, hi: Float = 0
            for i in 0..<32 { lo = min(lo, x[32 * j + i]); hi = max(hi, x[32 * j + i]) }
            scale[j] = (hi - lo) / levels
            offset[j] = -lo
        }
        let d = storeHalf(scale.max()! / 63, p, 0)
        let dmin = storeHalf(offset.max()! / 63, p, 2)
        // Round sub-scales up so each sub-block's range stays covered; round offsets to nearest.
        let sc = scale.map { d > 0 ? min(63, max(0, Int(($0 / d).rounded(.up)))) : 0 }
        let mn = offset.map { dmin > 0 ? quant($0 / dmin, 0, 63) : 0 }
        let table = p + 4
        for j in 0..<4 {
            table.storeBytes(of: UInt8(sc[j] | (sc[j + 4] >> 4) << 6), toByteOffset: j, as: UInt8.self)
            table.storeBytes(of: UInt8(mn[j] | (mn[j + 4] >> 4) << 6), toByteOffset: j + 4, as: UInt8.self)
            table.storeBytes(of: UInt8((sc[j + 4] & 15) | (mn[j + 4] & 15) << 4), toByteOffset: j + 8, as: UInt8.self)
        }
        var q = [Int](repeating: 0, count: 256)
        for j in 0..<8 {
            let step = d * Float(sc[j]), shift = dmin * Float(mn[j])
            let inv: Float = step > 0 ? 1 / step : 0
            for i in 0..<32 { q[32 * j + i] = quant((x[32 * j + i] + shift) * inv, 0, Int(levels)) }
        }
        let qs = p + (bits == 4 ? 16 : 48)
        for c in 0..<4 {
            for l in 0..<32 {
                let a = q[64 * c + l], b = q[64 * c + 32 + l]
                qs.storeBytes(of: UInt8(a & 15) | UInt8(b & 15) << 4, toByteOffset: 32 * c + l, as: UInt8.self)
                if bits == 5 {
                    let qh = p + 16
                    let old = qh.load(fromByteOffset: l, as: UInt8.self)
                    let add = UInt8((a >> 4) & 1) << (2 * c) | UInt8((b >> 4) & 1) << (2 * c + 1)
                    qh.storeBytes(of: old | add, toByteOffset: l, as: UInt8.self)
                }
            }
        }
    }

    /// Q6_K: per 16-element sub-block x ≈ (d * sc) * (q - 32) with int8 sc and symmetric max-abs scaling.
    private static func q6_K(_ x: UnsafePointer<Float>, _ p: UnsafeMutableRawPointer) {
        var scale = [Float](repeating: 0, count: 16)
        for j in 0..<16 {
            var amax: Float = 0
            for i in 0..<16 { amax = max(amax, abs(x[16 * j + i])) }
            scale[j] = amax / 31
        }
        let d = storeHalf(scale.max()! / 127, p, 208)
        let sc = scale.map { d > 0 ? min(127, max(0, Int(($0 / d).rounded(.up)))) : 0 }
        for j in 0..<16 { p.storeBytes(of: Int8(sc[j]), toByteOffset: 192 + j, as: Int8.self) }
        var q = [Int](repeating: 0, count: 256)
        for e in 0..<256 {
            let step = d * Float(sc[e / 16])
            q[e] = (step > 0 ? quant(x[e] / step, -32, 31) : 0) + 32
        }
        for n in 0..<2 {
            for l in 0..<32 {
                let base = 128 * n + l
                let q1 = q[base], q2 = q[base + 32], q3 = q[base + 64], q4 = q[base + 96]
                p.storeBytes(of: UInt8(q1 & 15) | UInt8(q3 & 15) << 4, toByteOffset: 64 * n + l, as: UInt8.self)
                p.storeBytes(of: UInt8(q2 & 15) | UInt8(q4 & 15) << 4, toByteOffset: 64 * n + 32 + l, as: UInt8.self)
                let hi = (q1 >> 4) | (q2 >> 4) << 2 | (q3 >> 4) << 4 | (q4 >> 4) << 6
                p.storeBytes(of: UInt8(hi), toByteOffset: 128 + 32 * n + l, as: UInt8.self)
            }
        }
    }

    /// Q2_K: per 16-element sub-block x ≈ (d * sc) * q - (dmin * m), q < 4, 4-bit sc and m; sub-block ranges
    /// include 0, as in ``kAffine(_:_:bits:)``.
    private static func q2_K(_ x: UnsafePointer<Float>, _ p: UnsafeMutableRawPointer) {
        var scale = [Float](repeating: 0, count: 16), offset = [Float](repeating: 0, count: 16)
        for j in 0..<16 {
            var lo: Float = 0, hi: Float = 0
            for i in 0..<16 { lo = min(lo, x[16 * j + i]); hi = max(hi, x[16 * j + i]) }
            scale[j] = (hi - lo) / 3
            offset[j] = -lo
        }
        let d = storeHalf(scale.max()! / 15, p, 80)
        let dmin = storeHalf(offset.max()! / 15, p, 82)
        let sc = scale.map { d > 0 ? min(15, max(0, Int(($0 / d).rounded(.up)))) : 0 }
        let mn = offset.map { dmin > 0 ? quant($0 / dmin, 0, 15) : 0 }
        for j in 0..<16 { p.storeBytes(of: UInt8(sc[j] | mn[j] << 4), toByteOffset: j, as: UInt8.self) }
        var qs = [UInt8](repeating: 0, count: 64)
        for e in 0..<256 {
            let step = d * Float(sc[e / 16]), shift = dmin * Float(mn[e / 16])
            let q = step > 0 ? quant((x[e] + shift) / step, 0, 3) : 0
            qs[32 * (e / 128) + e % 32] |= UInt8(q) << UInt8(2 * (e % 128 / 32))
        }
        for i in 0..<64 { p.storeBytes(of: qs[i], toByteOffset: 16 + i, as: UInt8.self) }
    }

    /// Q3_K: per 16-element sub-block x ≈ (d * sc) * q with q in -4...3 and signed 6-bit sc; the
    /// largest-magnitude value of a sub-block maps to -4, as in ``symmetric(_:_:bits:)``.
    private static func q3_K(_ x: UnsafePointer<Float>, _ p: UnsafeMutableRawPointer) {
        var scale = [Float](repeating: 0, count: 16)
        for j in 0..<16 {
            var vmax: Float = 0
            for i in 0..<16 where abs(x[16 * j + i]) > abs(vmax) { vmax = x[16 * j + i] }
            scale[j] = vmax / -4
        }
        let d = storeHalf(scale.map(abs).max()! / 31, p, 108)
        let sc = scale.map { d > 0 ? quant($0 / d, -32, 31) : 0 }
        var table = [UInt8](repeating: 0, count: 12)
        for i in 0..<16 {
            let v = sc[i] + 32
            table[i % 8] |= UInt8(v & 15) << UInt8(i < 8 ? 0 : 4)
            table[8 + i % 4] |= UInt8(v >> 4) << UInt8(2 * (i / 4))
        }
        var hmask = [UInt8](repeating: 0, count: 32), qs = [UInt8](repeating: 0, count: 64)
        for e in 0..<256 {
            let step = d * Float(sc[e / 16])
            let v = (step != 0 ? quant(x[e] / step, -4, 3) : 0) + 4  // 0...7: low 2 bits, then the hmask bit
            qs[32 * (e / 128) + e % 32] |= UInt8(v & 3) << UInt8(2 * (e % 128 / 32))
            hmask[e % 32] |= UInt8(v >> 2) << UInt8(e / 32)
        }
        for i in 0..<32 { p.storeBytes(of: hmask[i], toByteOffset: i, as: UInt8.self) }
        for i in 0..<64 { p.storeBytes(of: qs[i], toByteOffset: 32 + i, as: UInt8.self) }
        for i in 0..<12 { p.storeBytes(of: table[i], toByteOffset: 96 + i, as: UInt8.self) }
    }

    /// The IQ4 grid (ggml's `kvalues_iq4nl`).
    private static let iq4Grid: [Float] = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113]

    /// Index of the grid level nearest to `v` (0 when `v` is not finite).
    private static func nearestIQ4(_ v: Float) -> Int {
        guard v.isFinite else { return 0 }
        var best = 0
        for k in 1..<16 where abs(iq4Grid[k] - v) < abs(iq4Grid[best] - v) { best = k }
        return best
    }

    /// Writes 32 grid indices as IQ4 nibbles: element j in the low nibble of byte j, j + 16 in the high one.
    private static func packIQ4(_ x: UnsafePointer<Float>, step: Float, _ qs: UnsafeMutableRawPointer) {
        let inv: Float = step != 0 ? 1 / step : 0
        for j in 0..<16 {
            let lo = nearestIQ4(x[j] * inv), hi = nearestIQ4(x[j + 16] * inv)
            qs.storeBytes(of: UInt8(lo) | UInt8(hi) << 4, toByteOffset: j, as: UInt8.self)
        }
    }

    /// The value of largest magnitude among `x[0..<n]`.
    private static func signedMax(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var vmax: Float = 0
        for i in 0..<n where abs(x[i]) > abs(vmax) { vmax = x[i] }
        return vmax
    }

    /// IQ4_NL: d maps the largest-magnitude value to the grid's -127; each value takes the nearest level.
    private static func iq4_nl(_ x: UnsafePointer<Float>, _ p: UnsafeMutableRawPointer) {
        let d = storeHalf(signedMax(x, 32) / -127, p, 0)
        packIQ4(x, step: d, p + 2)
    }

    /// IQ4_XS: a signed 6-bit scale per 32-element sub-block (as IQ4_NL's d) times the block's f16 d.
    private static func iq4_xs(_ x: UnsafePointer<Float>, _ p: UnsafeMutableRawPointer) {
        let scale = (0..<8).map { signedMax(x + 32 * $0, 32) / -127 }
        let d = storeHalf(scale.map(abs).max()! / 31, p, 0)
        var high: UInt16 = 0
        for j in 0..<8 {
            let ls = d > 0 ? quant(scale[j] / d, -32, 31) : 0
            let v = ls + 32
            let old = p.load(fromByteOffset: 4 + j / 2, as: UInt8.self)
            p.storeBytes(of: old | UInt8(v & 15) << UInt8(4 * (j % 2)), toByteOffset: 4 + j / 2, as: UInt8.self)
            high |= UInt16(v >> 4) << UInt16(2 * j)
            packIQ4(x + 32 * j, step: d * Float(ls), p + 8 + 16 * j)
        }
        p.storeBytes(of: high.littleEndian, toByteOffset: 2, as: UInt16.self)
    }
}
