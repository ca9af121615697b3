import StretchKernelsC

/// Row dequantization of every supported ``GGMLType`` to `Float`, following ggml's block layouts exactly.
///
/// All multi-byte fields are little-endian and read with unaligned loads (GGUF tensor data is only
/// guaranteed 32-byte aligned per tensor, and blocks of 18/22/34/... bytes are not aligned at all).
/// The type is switched on once per row; each format has its own block loop working 16 lanes at a time.
/// Arithmetic matches ggml's scalar reference order (e.g. `d * q + m`, `d1 * q - m1`, `d * sc * q`), so
/// results are bit-identical to a straightforward scalar dequantizer.
package enum Dequantize {
    /// Dequantizes `count` elements (a multiple of `type.blockSize`) of one row from `src` into `dst`.
    package static func row(_ type: GGMLType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count >= 0 && count % type.blockSize == 0, "count \(count) is not a multiple of \(type) block size")
        switch type {
        case .f32: UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: count * 4)
        case .f16: f16(src, dst, count)
        case .bf16: bf16(src, dst, count)
        case .q8_0: q8_0(src, dst, count / 32)
        case .q4_0: q4_0(src, dst, count / 32)
        case .q4_1: q4_1(src, dst, count / 32)
        case .q5_0: q5_0(src, dst, count / 32)
        case .q5_1: q5_1(src, dst, count / 32)
        case .q4_K: q4_K(src, dst, count / 256)
        case .q5_K: q5_K(src, dst, count / 256)
        case .q6_K: q6_K(src, dst, count / 256)
        case .q2_K: q2_K(src, dst, count / 256)
        case .q3_K: q3_K(src, dst, count / 256)
        case .iq4_nl: iq4_nl(src, dst, count / 32)
        case .iq4_xs: iq4_xs(src, dst, count / 256)
        }
    }

    // MARK: - Float formats

    static func f16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
        // A plain element loop: LLVM vectorizes the half→float extension (vcvtph2ps with F16C).
        for i in 0..<count {
            dst[i] = HalfFloat.f16ToF32(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
        }
    }

    static func bf16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
        var i = 0
        while i + 16 <= count {
            let bits = QuantLanes.wideHalves(src, 2 * i) &<< 16
            QuantLanes.store(unsafeBitCast(bits, to: SIMD16<Float>.self), dst + i)
            i += 16
        }
        while i < count {
            dst[i] = HalfFloat.bf16ToF32(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            i += 1
        }
    }

    // MARK: - 32-element block formats

    /// Q8_0 (34 bytes): f16 d, int8 qs[32]; x = d * q.
    static func q8_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 34, y = dst + b * 32
            let d = QuantLanes.half(p, 0)
            QuantLanes.store(QuantLanes.int8ToFloat(QuantLanes.wideBytes(p, 2)) * d, y)
            QuantLanes.store(QuantLanes.int8ToFloat(QuantLanes.wideBytes(p, 18)) * d, y + 16)
        }
    }

    /// Q4_0 (18 bytes): f16 d, qs[16]; element j = low nibble of qs[j], j+16 = high nibble; x = (q - 8) * d.
    static func q4_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 18, y = dst + b * 32
            let d = QuantLanes.half(p, 0)
            let qs = QuantLanes.wideBytes(p, 2)
            QuantLanes.store(QuantLanes.toFloat(qs & 0x0F, minus: 8) * d, y)
            QuantLanes.store(QuantLanes.toFloat(qs &>> 4, minus: 8) * d, y + 16)
        }
    }

    /// Q4_1 (20 bytes): f16 d, f16 m, qs[16] (nibbles as Q4_0); x = q * d + m.
    static func q4_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 20, y = dst + b * 32
            let d = QuantLanes.half(p, 0), m = QuantLanes.half(p, 2)
            let qs = QuantLanes.wideBytes(p, 4)
            QuantLanes.store(QuantLanes.toFloat(qs & 0x0F, minus: 0) * d + m, y)
            QuantLanes.store(QuantLanes.toFloat(qs &>> 4, minus: 0) * d + m, y + 16)
        }
    }

    /// Q5_0 (22 bytes): f16 d, u32 qh, qs[16]; element j's 5th bit is bit j of qh; x = (q - 16) * d.
    static func q5_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 22, y = dst + b * 32
            let d = QuantLanes.half(p, 0)
            let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
            let qs = QuantLanes.wideBytes(p, 6)
            let lo = (qs & 0x0F) | QuantLanes.q5HighBits(qh, first: 0)
            let hi = (qs &>> 4) | QuantLanes.q5HighBits(qh, first: 16)
            QuantLanes.store(QuantLanes.toFloat(lo, minus: 16) * d, y)
            QuantLanes.store(QuantLanes.toFloat(hi, minus: 16) * d, y + 16)
        }
    }

    /// Q5_1 (24 bytes): f16 d, f16 m, u32 qh, qs[16] (bits as Q5_0); x = q * d + m.
    static func q5_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 24, y = dst + b * 32
            let d = QuantLanes.half(p, 0), m = QuantLanes.half(p, 2)
            let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            let qs = QuantLanes.wideBytes(p, 8)
            let lo = (qs & 0x0F) | QuantLanes.q5HighBits(qh, first: 0)
            let hi = (qs &>> 4) | QuantLanes.q5HighBits(qh, first: 16)
            QuantLanes.store(QuantLanes.toFloat(lo, minus: 0) * d + m, y)
            QuantLanes.store(QuantLanes.toFloat(hi, minus: 0) * d + m, y + 16)
        }
    }

    // MARK: - K-quants (256-element super-blocks)

    /// Q4_K (144 bytes): f16 d, f16 dmin, 12 bytes of 6-bit (scale, min) × 8, qs[128].
    /// Each 64-element chunk c uses qs[32c ..< 32c+32]: low nibbles are sub-block 2c, high nibbles 2c+1;
    /// x = (d * scale) * q - (dmin * min).
    static func q4_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 144, y = dst + b * 256
            let d = QuantLanes.half(p, 0), dmin = QuantLanes.half(p, 2)
            let table = p + 4, qs = p + 16
            for c in 0..<4 {
                let (s1, m1) = QuantLanes.scaleMinK4(table, 2 * c)
                let (s2, m2) = QuantLanes.scaleMinK4(table, 2 * c + 1)
                let d1 = d * Float(s1), min1 = dmin * Float(m1)
                let d2 = d * Float(s2), min2 = dmin * Float(m2)
                for h in 0..<2 {
                    let q = QuantLanes.wideBytes(qs, 32 * c + 16 * h)
                    let out = y + 64 * c + 16 * h
                    QuantLanes.store(d1 * QuantLanes.toFloat(q & 0x0F, minus: 0) - min1, out)
                    QuantLanes.store(d2 * QuantLanes.toFloat(q &>> 4, minus: 0) - min2, out + 32)
                }
            }
        }
    }

    /// Q5_K (176 bytes): f16 d, f16 dmin, 12-byte scale table, qh[32], qs[128].
    /// As Q4_K, plus a 5th bit: element l of chunk c (sub-block 2c) takes bit 2c of qh[l], and element
    /// 32 + l (sub-block 2c+1) takes bit 2c+1 of qh[l].
    static func q5_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 176, y = dst + b * 256
            let d = QuantLanes.half(p, 0), dmin = QuantLanes.half(p, 2)
            let table = p + 4, qhBase = p + 16, qs = p + 48
            for c in 0..<4 {
                let (s1, m1) = QuantLanes.scaleMinK4(table, 2 * c)
                let (s2, m2) = QuantLanes.scaleMinK4(table, 2 * c + 1)
                let d1 = d * Float(s1), min1 = dmin * Float(m1)
                let d2 = d * Float(s2), min2 = dmin * Float(m2)
                let shiftLo = UInt32(2 * c), shiftHi = UInt32(2 * c + 1)
                for h in 0..<2 {
                    let q = QuantLanes.wideBytes(qs, 32 * c + 16 * h)
                    let qh = QuantLanes.wideBytes(qhBase, 16 * h)
                    let lo = (q & 0x0F) | (((qh &>> shiftLo) & 1) &<< 4)
                    let hi = (q &>> 4) | (((qh &>> shiftHi) & 1) &<< 4)
                    let out = y + 64 * c + 16 * h
                    QuantLanes.store(d1 * QuantLanes.toFloat(lo, minus: 0) - min1, out)
                    QuantLanes.store(d2 * QuantLanes.toFloat(hi, minus: 0) - min2, out + 32)
                }
            }
        }
    }

    /// Q6_K (210 bytes): ql[128], qh[64], int8 scales[16], f16 d. Each 128-element half n uses
    /// ql[64n ..< 64n+64] and qh[32n ..< 32n+32]; for l < 32 the four elements l, l+32, l+64, l+96 take
    /// the low nibble of ql[l], low of ql[l+32], high of ql[l], high of ql[l+32] and bit pairs 0-1, 2-3,
    /// 4-5, 6-7 of qh[l]; q is 6-bit minus 32; element e uses scales[e / 16]; x = d * scale * q.
    static func q6_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 210, y = dst + b * 256
            let d = QuantLanes.half(p, 208)
            let scales = (p + 192).assumingMemoryBound(to: Int8.self)
            for n in 0..<2 {
                let ql = p + 64 * n, qhBase = p + 128 + 32 * n
                for h in 0..<2 {
                    let a = QuantLanes.wideBytes(ql, 16 * h), bq = QuantLanes.wideBytes(ql, 32 + 16 * h)
                    let qh = QuantLanes.wideBytes(qhBase, 16 * h)
                    let q1 = (a & 0x0F) | ((qh & 0x03) &<< 4)
                    let q2 = (bq & 0x0F) | ((qh & 0x0C) &<< 2)
                    let q3 = (a &>> 4) | (qh & 0x30)
                    let q4 = (bq &>> 4) | ((qh & 0xC0) &>> 2)
                    let s = 8 * n + h
                    let out = y + 128 * n + 16 * h
                    QuantLanes.store((d * Float(scales[s])) * QuantLanes.toFloat(q1, minus: 32), out)
                    QuantLanes.store((d * Float(scales[s + 2])) * QuantLanes.toFloat(q2, minus: 32), out + 32)
                    QuantLanes.store((d * Float(scales[s + 4])) * QuantLanes.toFloat(q3, minus: 32), out + 64)
                    QuantLanes.store((d * Float(scales[s + 6])) * QuantLanes.toFloat(q4, minus: 32), out + 96)
                }
            }
        }
    }

    // MARK: - 2- and 3-bit K-quants

    /// Q2_K (84 bytes): scales[16], qs[64], f16 d, f16 dmin. Byte `scales[i]` holds sub-block i's scale (low
    /// nibble) and min (high nibble), 16 elements each. Element 128h + 32s + l (h < 2, s < 4, l < 32) is
    /// bits 2s, 2s+1 of qs[32h + l]; x = (d * scale) * q - (dmin * min).
    static func q2_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 84, y = dst + b * 256
            let d = QuantLanes.half(p, 80), dmin = QuantLanes.half(p, 82)
            let scales = p.assumingMemoryBound(to: UInt8.self)
            for h in 0..<2 {
                for part in 0..<2 {  // elements l < 16, then l >= 16
                    let q = QuantLanes.wideBytes(p, 16 + 32 * h + 16 * part)
                    for s in 0..<4 {
                        let packed = scales[8 * h + 2 * s + part]
                        let dl = d * Float(packed & 0x0F), ml = dmin * Float(packed >> 4)
                        let v = (q &>> UInt32(2 * s)) & 3
                        QuantLanes.store(dl * QuantLanes.toFloat(v, minus: 0) - ml, y + 128 * h + 32 * s + 16 * part)
                    }
                }
            }
        }
    }

    /// Q3_K (110 bytes): hmask[32], qs[64], 12 bytes of 6-bit scales, f16 d. Element 128h + 32s + l takes
    /// bits 2s, 2s+1 of qs[32h + l] as its low bits and bit 4h + s of hmask[l]: q = low - 4 when that bit is
    /// clear, low when set. Sub-block i (16 elements) has the scale from ``QuantLanes/scaleK3(_:_:)``;
    /// x = (d * scale) * q.
    static func q3_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 110, y = dst + b * 256
            let d = QuantLanes.half(p, 108)
            for h in 0..<2 {
                for part in 0..<2 {
                    let q = QuantLanes.wideBytes(p, 32 + 32 * h + 16 * part)
                    let hm = QuantLanes.wideBytes(p, 16 * part)
                    for s in 0..<4 {
                        let k = 4 * h + s
                        let v = ((q &>> UInt32(2 * s)) & 3) | (((hm &>> UInt32(k)) & 1) &<< 2)
                        let dl = d * Float(QuantLanes.scaleK3(p + 96, 2 * k + part))
                        QuantLanes.store(dl * QuantLanes.toFloat(v, minus: 4), y + 32 * k + 16 * part)
                    }
                }
            }
        }
    }

    // MARK: - Non-linear 4-bit (IQ4)

    /// IQ4_NL (18 bytes): f16 d, qs[16]; element j is the low nibble of qs[j], j + 16 the high nibble, each
    /// an index into ggml's fixed non-uniform 16-level grid (`kvalues_iq4nl`); x = d * value.
    /// Done in C (`stretch_dequantize_iq4`), where the grid lookup is one byte shuffle (Swift exposes no
    /// dynamic lane shuffle; a lane-by-lane lookup was the slow part of IQ4 prefill).
    static func iq4_nl(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        stretch_dequantize_iq4(Int32(STRETCH_KIND_IQ4_NL), src, blocks, dst)
    }

    /// IQ4_XS (136 bytes): f16 d, u16 scales_h, scales_l[4], qs[128]. Sub-block j (32 elements) has the
    /// 6-bit scale ((scales_l[j / 2] >> 4(j % 2)) & 15) | ((scales_h >> 2j) & 3) << 4, minus 32, and its
    /// elements in qs[16j ..< 16j + 16] as IQ4_NL; x = (d * scale) * value. In C, as IQ4_NL.
    static func iq4_xs(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        stretch_dequantize_iq4(Int32(STRETCH_KIND_IQ4_XS), src, blocks, dst)
    }
}
