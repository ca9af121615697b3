import Foundation
import StretchKernelsC

/// Integer dot products of quantized weight rows with ``Q8Activations`` (decode matvec on `.auto`).
///
/// Weights are unpacked to 16-bit lanes (32 per AVX-512 register) and multiplied with the int8
/// activations in 16-bit integer arithmetic (`vpmullw`); the two halves of each 32-product block are
/// added (still exact in 16 bits for every format here: |w·x| ≤ 127·127 per lane pair for Q8_0, far less
/// for 4-6-bit weights), widened to 32 bits and converted once per block, where the block's weight and
/// activation scales are applied. Per 32 weights that is ~10 vector instructions, against ~30 for the
/// float path of ``QuantizedDot`` — and the activation vector is 4× smaller in cache.
package enum IntegerDot {
    /// Formats with an integer kernel. Q2_K, Q3_K, IQ4_NL and IQ4_XS have C kernels only: ``dot(_:_:_:)``
    /// hands them to the C kernel even when `STRETCH_C_KERNELS=0` selects the Swift ones for the others.
    package static func supports(_ type: GGMLType) -> Bool {
        type == .q8_0 || type == .q5_0 || type == .q4_K || type == .q6_K || cOnly(type)
    }

    /// The formats whose integer kernel exists in C only.
    @inline(__always)
    static func cOnly(_ type: GGMLType) -> Bool {
        type == .q2_K || type == .q3_K || type == .iq4_nl || type == .iq4_xs
    }

    /// Σ row[i] · x[i] over `x.count` elements, `row` in ggml block layout of `type` (see ``supports(_:)``).
    @inline(__always)
    package static func dot(_ type: GGMLType, _ row: UnsafeRawPointer, _ x: Q8Activations) -> Float {
        switch type {
        case .q8_0: return q8_0(row, x, x.count / 32)
        case .q5_0: return q5_0(row, x, x.count / 32)
        case .q4_K: return q4_K(row, x, x.count / 256)
        case .q6_K: return q6_K(row, x, x.count / 256)
        case .q2_K, .q3_K, .iq4_nl, .iq4_xs:
            var y: Float = 0
            dotRows(type, row, rowBytes: type.rowBytes(x.count), rows: 1, x, &y)
            return y
        default: preconditionFailure("no integer kernel for \(type)")
        }
    }

    // MARK: - C kernels

    /// The C kernel family for `type`, or nil.
    @inline(__always)
    package static func cKind(_ type: GGMLType) -> Int32? {
        switch type {
        case .q8_0: return Int32(STRETCH_KIND_Q8_0)
        case .q5_0: return Int32(STRETCH_KIND_Q5_0)
        case .q4_K: return Int32(STRETCH_KIND_Q4_K)
        case .q6_K: return Int32(STRETCH_KIND_Q6_K)
        case .q2_K: return Int32(STRETCH_KIND_Q2_K)
        case .q3_K: return Int32(STRETCH_KIND_Q3_K)
        case .iq4_nl: return Int32(STRETCH_KIND_IQ4_NL)
        case .iq4_xs: return Int32(STRETCH_KIND_IQ4_XS)
        default: return nil
        }
    }

    /// Whether decode uses the C kernels (``dotRows(_:_:rowBytes:rows:_:_:)``, 1.4–1.7× faster than the
    /// Swift kernels below): on unless the environment sets `STRETCH_C_KERNELS=0`, which selects the Swift
    /// kernels (for A/B measurements and as a fallback).
    package static let useC: Bool = {
        if let v = getenv("STRETCH_C_KERNELS"), String(cString: v) == "0" { return false }
        return true
    }()

    /// The C implementation in use: 0 portable scalar; x86-64: 1 AVX2, 2 AVX-512 VNNI; aarch64: 1 NEON,
    /// 2 dotprod, 3 i8mm.
    package static var cLevel: Int {
        get { Int(stretch_kernels_level()) }
        set { stretch_kernels_set_level(Int32(newValue)) }
    }

    /// `y[r] = Σ row_r · x` for `r < rows`, row `r` at `w + r · rowBytes`, by the C kernels.
    package static func dotRows(_ type: GGMLType, _ w: UnsafeRawPointer, rowBytes: Int, rows: Int,
                               _ x: Q8Activations, _ y: UnsafeMutablePointer<Float>) {
        guard let kind = cKind(type) else { preconditionFailure("no integer kernel for \(type)") }
        var q = StretchQ8(quants: x.quants, scales: x.scales, sums: x.sums, sums16: x.sums16, count: x.count)
        stretch_dot_rows(kind, w, rowBytes, rows, &q, y)
    }

    /// `y[i][r] = Σ row_r · x[i]` for `r < rows` and every activation vector `x[i]`, by the C kernels: each
    /// weight block is unpacked once for up to four activations (batched decode). Bit-identical to
    /// ``dotRows(_:_:rowBytes:rows:_:_:)`` per activation. `prepared` holds `x` laid out by
    /// ``PreparedActivations`` (once per product, shared by every row range and thread).
    package static func dotRows(_ type: GGMLType, _ w: UnsafeRawPointer, rowBytes: Int, rows: Int,
                               _ x: UnsafePointer<StretchQ8>, count: Int, prepared: PreparedActivations,
                               _ y: UnsafePointer<UnsafeMutablePointer<Float>?>) {
        guard let kind = cKind(type) else { preconditionFailure("no integer kernel for \(type)") }
        stretch_dot_rows_multi_prepared(kind, w, rowBytes, rows, x, count, prepared.bytes, y)
    }

    /// Several activation vectors laid out for the batched kernels (pairs interleaved lane by lane, with
    /// their per-block offsets and scales): built once per product, read by every thread. Owned by the
    /// caller, who deallocates it.
    package struct PreparedActivations {
        let bytes: UnsafeMutableRawPointer?

        /// Lays out `x`, every vector of `columns` values.
        package init(_ x: UnsafeBufferPointer<StretchQ8>, columns: Int) {
            let n = stretch_multi_prepared_bytes(columns, x.count)
            guard n > 0, let base = x.baseAddress else {
                bytes = nil
                return
            }
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: n, alignment: 64)
            stretch_multi_prepare(base, x.count, buffer)
            bytes = buffer
        }

        package func deallocate() { bytes?.deallocate() }
    }

    /// The C view of `x` (pointers into its storage, valid while `x` is allocated).
    package static func cView(_ x: Q8Activations) -> StretchQ8 {
        StretchQ8(quants: x.quants, scales: x.scales, sums: x.sums, sums16: x.sums16, count: x.count)
    }

    // MARK: - Lanes

    /// 32 signed bytes at `p`, sign-extended to 16-bit lanes (one `vpmovsxbw`).
    @inline(__always)
    static func signedBytes(_ base: UnsafeRawPointer) -> SIMD32<Int16> {
        let p = base.assumingMemoryBound(to: Int8.self)
        return SIMD32<Int16>(Int16(p[0]), Int16(p[1]), Int16(p[2]), Int16(p[3]), Int16(p[4]), Int16(p[5]), Int16(p[6]), Int16(p[7]), Int16(p[8]), Int16(p[9]), Int16(p[10]), Int16(p[11]), Int16(p[12]), Int16(p[13]), Int16(p[14]), Int16(p[15]), Int16(p[16]), Int16(p[17]), Int16(p[18]), Int16(p[19]), Int16(p[20]), Int16(p[21]), Int16(p[22]), Int16(p[23]), Int16(p[24]), Int16(p[25]), Int16(p[26]), Int16(p[27]), Int16(p[28]), Int16(p[29]), Int16(p[30]), Int16(p[31]))
    }

    /// 32 unsigned bytes at `p`, zero-extended to 16-bit lanes (one `vpmovzxbw`).
    @inline(__always)
    static func unsignedBytes(_ base: UnsafeRawPointer) -> SIMD32<Int16> {
        let p = base.assumingMemoryBound(to: UInt8.self)
        return SIMD32<Int16>(Int16(p[0]), Int16(p[1]), Int16(p[2]), Int16(p[3]), Int16(p[4]), Int16(p[5]), Int16(p[6]), Int16(p[7]), Int16(p[8]), Int16(p[9]), Int16(p[10]), Int16(p[11]), Int16(p[12]), Int16(p[13]), Int16(p[14]), Int16(p[15]), Int16(p[16]), Int16(p[17]), Int16(p[18]), Int16(p[19]), Int16(p[20]), Int16(p[21]), Int16(p[22]), Int16(p[23]), Int16(p[24]), Int16(p[25]), Int16(p[26]), Int16(p[27]), Int16(p[28]), Int16(p[29]), Int16(p[30]), Int16(p[31]))
    }

    /// 16 unsigned bytes at `p`, zero-extended to 16-bit lanes.
    @inline(__always)
    static func unsignedBytes16(_ base: UnsafeRawPointer) -> SIMD16<Int16> {
        let p = base.assumingMemoryBound(to: UInt8.self)
        return SIMD16<Int16>(Int16(p[0]), Int16(p[1]), Int16(p[2]), Int16(p[3]), Int16(p[4]), Int16(p[5]), Int16(p[6]), Int16(p[7]), Int16(p[8]), Int16(p[9]), Int16(p[10]), Int16(p[11]), Int16(p[12]), Int16(p[13]), Int16(p[14]), Int16(p[15]))
    }

    /// Sign-extends 16 lanes to 32 bits (one `vpmovsxwd`).
    @inline(__always)
    static func widen(_ v: SIMD16<Int16>) -> SIMD16<Int32> {
        return SIMD16<Int32>(Int32(v[0]), Int32(v[1]), Int32(v[2]), Int32(v[3]), Int32(v[4]), Int32(v[5]), Int32(v[6]), Int32(v[7]), Int32(v[8]), Int32(v[9]), Int32(v[10]), Int32(v[11]), Int32(v[12]), Int32(v[13]), Int32(v[14]), Int32(v[15]))
    }

    /// `Float(v)` for |v| < 2^22, by adding into the mantissa of 1.5 · 2^23 (two simple ops, no generic
    /// conversion call).
    @inline(__always)
    static func toFloat(_ v: SIMD16<Int32>) -> SIMD16<Float> {
        unsafeBitCast(v &+ SIMD16<Int32>(repeating: 0x4B40_0000), to: SIMD16<Float>.self)
            - SIMD16<Float>(repeating: 12_582_912)
    }

    /// Σ over pairs of lanes `(i, i + 16)` of `w · x`, as 16 exact 32-bit partial sums.
    @inline(__always)
    static func products(_ w: SIMD32<Int16>, _ x: SIMD32<Int16>) -> SIMD16<Int32> {
        let p = w &* x
        return widen(p.lowHalf &+ p.highHalf)
    }

    /// A splat of `v`.
    ///
    /// Only `&+` and `&*` of `SIMD32<Int16>` reliably lower to single instructions; the standard library's
    /// generic `&`, `|`, `&-` and shifts on 32 lanes stay per-lane loops in these kernels (measured ~50×
    /// slower). Bitwise ops and shifts therefore go through 16 × 32-bit lanes (``and(_:_:)``,
    /// ``or(_:_:)``, ``shiftRight(_:_:)``) and offsets (`q - 16`, `q - 32`) are subtracted after the dot
    /// product using the activation sums.
    @inline(__always)
    static func splat(_ v: Int16) -> SIMD32<Int16> { SIMD32<Int16>(repeating: v) }

    /// `v >> n` for lanes holding 0...255 plus garbage-free masking by the caller: shifts as 32-bit lanes
    /// (which the standard library lowers to one `vpsrld`; 16-bit lane shifts become per-lane loops),
    /// so bits of the upper neighbour enter each lane's top; callers mask them off.
    @inline(__always)
    static func shiftRight(_ v: SIMD32<Int16>, _ n: UInt32) -> SIMD32<Int16> {
        unsafeBitCast(unsafeBitCast(v, to: SIMD16<UInt32>.self) &>> SIMD16<UInt32>(repeating: n), to: SIMD32<Int16>.self)
    }

    /// Lane-wise `a & b`, done on 32-bit lanes (see ``splat(_:)``).
    @inline(__always)
    static func and(_ a: SIMD32<Int16>, _ b: SIMD32<Int16>) -> SIMD32<Int16> {
        unsafeBitCast(unsafeBitCast(a, to: SIMD16<UInt32>.self) & unsafeBitCast(b, to: SIMD16<UInt32>.self),
                      to: SIMD32<Int16>.self)
    }

    /// Lane-wise `a | b`, done on 32-bit lanes (see ``splat(_:)``).
    @inline(__always)
    static func or(_ a: SIMD32<Int16>, _ b: SIMD32<Int16>) -> SIMD32<Int16> {
        unsafeBitCast(unsafeBitCast(a, to: SIMD16<UInt32>.self) | unsafeBitCast(b, to: SIMD16<UInt32>.self),
                      to: SIMD32<Int16>.self)
    }

    /// Moves bit `j % 16` of lane `j` to the sign bit when multiplied in: `1 << (15 - j % 16)`.
    /// (Per-lane variable shifts are also per-lane loops in the standard library; a multiply is one op.)
    @inline(__always)
    static var bitToSign: SIMD32<Int16> {
        SIMD32<Int16>(-32768, 16384, 8192, 4096, 2048, 1024, 512, 256, 128, 64, 32, 16, 8, 4, 2, 1,
                      -32768, 16384, 8192, 4096, 2048, 1024, 512, 256, 128, 64, 32, 16, 8, 4, 2, 1)
    }

    // MARK: - Kernels

    static func q8_0(_ row: UnsafeRawPointer, _ x: Q8Activations, _ blocks: Int) -> Float {
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>()
        let xq = UnsafeRawPointer(x.quants), xs = x.scales
        var b = 0
        while b + 2 <= blocks {
            let p = row + b &* 34
            let s0 = products(signedBytes(p + 2), signedBytes(xq + 32 &* b))
            let s1 = products(signedBytes(p + 36), signedBytes(xq + (32 &* b &+ 32)))
            a0 = a0.addingProduct(toFloat(s0), SIMD16(repeating: QuantLanes.half(p, 0) * xs[b]))
            a1 = a1.addingProduct(toFloat(s1), SIMD16(repeating: QuantLanes.half(p, 34) * xs[b &+ 1]))
            b &+= 2
        }
        if b < blocks {
            let p = row + b &* 34
            let s0 = products(signedBytes(p + 2), signedBytes(xq + 32 &* b))
            a0 = a0.addingProduct(toFloat(s0), SIMD16(repeating: QuantLanes.half(p, 0) * xs[b]))
        }
        return VectorOps.horizontalSum(a0 + a1)
    }

    /// Q5_0: 32 weights `(nibble | high bit << 4) - 16`; low nibbles are elements 0-15, high nibbles 16-31.
    /// Σ (q - 16) x = Σ q x - 16 Σ x, with Σ x from the activation block sums.
    static func q5_0(_ row: UnsafeRawPointer, _ x: Q8Activations, _ blocks: Int) -> Float {
        // Two accumulators and two offset sums: one chain per block would serialize on FMA latency.
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>()
        var o0: Float = 0, o1: Float = 0
        let xq = UnsafeRawPointer(x.quants), xs = x.scales, xsum = x.sums
        let toSign = bitToSign, low4 = splat(0x0F), sixteen = splat(16)
        @inline(__always)
        func block(_ b: Int) -> (SIMD16<Float>, Float, Float) {
            let p = row + b &* 22
            let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
            let v = unsignedBytes16(p + 6)
            let both = SIMD32<Int16>(lowHalf: v, highHalf: v)
            let nib = and(SIMD32<Int16>(lowHalf: v, highHalf: shiftRight(both, 4).highHalf), low4)
            let masks = SIMD32<Int16>(lowHalf: SIMD16(repeating: Int16(truncatingIfNeeded: qh)),
                                      highHalf: SIMD16(repeating: Int16(truncatingIfNeeded: qh >> 16)))
            let high = and(shiftRight(masks &* toSign, 11), sixteen)  // sign bit to bit 4: 16 where set
            let s = products(or(nib, high), signedBytes(xq + 32 &* b))
            let d = QuantLanes.half(p, 0)
            return (toFloat(s), d * xs[b], d * xsum[b])
        }
        var b = 0
        while b + 2 <= blocks {
            let (s0, c0, m0) = block(b)
            let (s1, c1, m1) = block(b &+ 1)
            a0 = a0.addingProduct(s0, SIMD16(repeating: c0))
            a1 = a1.addingProduct(s1, SIMD16(repeating: c1))
            o0 += m0
            o1 += m1
            b &+= 2
        }
        if b < blocks {
            let (s0, c0, m0) = block(b)
            a0 = a0.addingProduct(s0, SIMD16(repeating: c0))
            o0 += m0
        }
        return VectorOps.horizontalSum(a0 + a1) - 16 * (o0 + o1)
    }

    /// Q4_K: per 256-block `d`, `dmin` and 8 sub-blocks of 32 with 6-bit scale `s` and min `m`:
    /// Σ (d s q - dmin m) x = d s (q·x) - dmin m Σx, with Σx from the activation block sums.
    static func q4_K(_ row: UnsafeRawPointer, _ x: Q8Activations, _ blocks: Int) -> Float {
        var acc = SIMD16<Float>()
        var minSum: Float = 0
        let xq = UnsafeRawPointer(x.quants), xs = x.scales, xsum = x.sums
        let low4 = splat(0x0F)
        for b in 0..<blocks {
            let p = row + b &* 144
            let d = QuantLanes.half(p, 0), dmin = QuantLanes.half(p, 2)
            let table = p + 4, qs = p + 16
            for c in 0..<4 {
                let j = 8 &* b &+ 2 &* c  // activation block of the low-nibble sub-block
                let (s1, m1) = QuantLanes.scaleMinK4(table, 2 * c)
                let (s2, m2) = QuantLanes.scaleMinK4(table, 2 * c + 1)
                let v = unsignedBytes(qs + 32 &* c)
                let lo = products(and(v, low4), signedBytes(xq + 32 &* j))
                let hi = products(and(shiftRight(v, 4), low4), signedBytes(xq + (32 &* j &+ 32)))
                acc = acc.addingProduct(toFloat(lo), SIMD16(repeating: d * Float(s1) * xs[j]))
                acc = acc.addingProduct(toFloat(hi), SIMD16(repeating: d * Float(s2) * xs[j &+ 1]))
                minSum += dmin * (Float(m1) * xsum[j] + Float(m2) * xsum[j &+ 1])
            }
        }
        return VectorOps.horizontalSum(acc) - minSum
    }

    /// Q6_K: 256-blocks of 6-bit weights `q - 32` with 16 int8 scales (one per 16 weights) and `d`.
    /// A 32-weight group spans two scales, applied to the two 16-lane halves in 32-bit integers; the
    /// `- 32` is applied through the activations' 16-element sums.
    static func q6_K(_ row: UnsafeRawPointer, _ x: Q8Activations, _ blocks: Int) -> Float {
        var acc = SIMD16<Float>()
        let xq = UnsafeRawPointer(x.quants), xs = x.scales, xsum16 = x.sums16
        let low4 = splat(0x0F), four = splat(4), sixteen = splat(16)
        let m03 = splat(0x03), m0C = splat(0x0C), m30 = splat(0x30)
        for b in 0..<blocks {
            let p = row + b &* 210
            let d = QuantLanes.half(p, 208)
            let scales = (p + 192).assumingMemoryBound(to: Int8.self)
            for n in 0..<2 {
                let ql = p + 64 &* n, qh = unsignedBytes(p + (128 &+ 32 &* n))
                let a = unsignedBytes(ql), c = unsignedBytes(ql + 32)
                let groups = (
                    or(and(a, low4), and(qh, m03) &* sixteen), or(and(c, low4), and(qh, m0C) &* four),
                    or(and(shiftRight(a, 4), low4), and(qh, m30)), or(and(shiftRight(c, 4), low4), and(shiftRight(qh, 2), m30)))
                for g in 0..<4 {
                    let w: SIMD32<Int16>
                    switch g {
                    case 0: w = groups.0
                    case 1: w = groups.1
                    case 2: w = groups.2
                    default: w = groups.3
                    }
                    let j = 8 &* b &+ 4 &* n &+ g  // activation block
                    let prod = w &* signedBytes(xq + 32 &* j)
                    let si = 8 &* n &+ 2 &* g
                    let sa = Int32(scales[si]), sb = Int32(scales[si &+ 1])
                    let s = widen(prod.lowHalf) &* SIMD16(repeating: sa) &+ widen(prod.highHalf) &* SIMD16(repeating: sb)
                    // Σ 32 · (sa Σx_lo + sb Σx_hi), spread as 2 · (…) over the 16 lanes.
                    let correction = 2 &* (sa &* xsum16[2 &* j] &+ sb &* xsum16[2 &* j &+ 1])
                    acc = acc.addingProduct(toFloat(s &- SIMD16(repeating: correction)), SIMD16(repeating: d * xs[j]))
                }
            }
        }
        return VectorOps.horizontalSum(acc)
    }
}
