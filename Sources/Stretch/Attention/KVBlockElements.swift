/// llama.cpp's Q8_0 and Q4_0 blocks as KV storage (`-ctk/-ctv q8_0|q4_0`).
///
/// A head vector is stored as `headDim / 32` blocks along the head dimension, each an f16 scale `d` followed by
/// the quants, byte for byte as ggml lays them out. Quantization is llama.cpp's reference rule
/// (`quantize_row_q8_0_ref`, `quantize_row_q4_0_ref`): the scale is computed in float32 and only stored as f16,
/// so the quants are chosen against the unrounded scale. Attention reads a block as float32 (`q · d`) sixteen
/// lanes at a time, so queries stay float32: unlike llama.cpp, which quantizes the query to the key's format,
/// only the cache is rounded.

/// The f16 scale at the start of a block.
@inline(__always)
private func blockScale(_ block: UnsafeRawPointer) -> Float {
    HalfFloat.f16ToF32(UInt16(littleEndian: block.loadUnaligned(as: UInt16.self)))
}

/// A block format: everything but the block layout (``half(_:_:)``) and the quantizer is shared.
package protocol KVBlockFormat: KVElement {
    /// Bytes per block of 32 elements.
    static var blockBytes: Int { get }
    /// Elements `16·h ..< 16·h + 16` of a block (h = 0 or 1), before the block scale.
    static func half(_ block: UnsafeRawPointer, _ h: Int) -> SIMD16<Float>
}

extension KVBlockFormat {
    @inline(__always)
    package static func load16(_ src: UnsafeRawPointer, _ offset: Int) -> SIMD16<Float> {
        let block = src + (offset >> 5) * blockBytes
        return half(block, (offset >> 4) & 1) * blockScale(block)
    }

    @inline(__always)
    package static func load8(_ src: UnsafeRawPointer) -> SIMD8<Float> {
        let v = load16(src, 0)
        return SIMD8(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7])
    }

    @inline(__always)
    package static func dot(_ q: UnsafePointer<Float>, _ k: UnsafeRawPointer, _ n: Int) -> Float {
        let rq = UnsafeRawPointer(q)
        var acc = SIMD16<Float>()
        for b in 0..<(n >> 5) {
            let block = k + b * blockBytes
            let s = rq.loadUnaligned(fromByteOffset: 128 * b, as: SIMD16<Float>.self) * half(block, 0)
            let t = s.addingProduct(rq.loadUnaligned(fromByteOffset: 128 * b + 64, as: SIMD16<Float>.self), half(block, 1))
            acc = acc.addingProduct(SIMD16(repeating: blockScale(block)), t)
        }
        return acc.sum()
    }

    @inline(__always)
    package static func axpy(_ a: Float, _ v: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        let ry = UnsafeMutableRawPointer(y)
        for b in 0..<(n >> 5) {
            let block = v + b * blockBytes
            let ad = SIMD16(repeating: a * blockScale(block))
            for h in 0..<2 {
                let o = 128 * b + 64 * h
                let r = ry.loadUnaligned(fromByteOffset: o, as: SIMD16<Float>.self).addingProduct(ad, half(block, h))
                ry.storeBytes(of: r, toByteOffset: o, as: SIMD16<Float>.self)
            }
        }
    }

    package static func load(_ src: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ n: Int) {
        widen(src, x, n)
    }
}

/// Q8_0: `d` (f16), then 32 signed bytes; element i = `qs[i] · d`. 34 bytes per 32 elements.
package enum Q8_0Element: KVBlockFormat {
    package static let blockBytes = 34

    /// Sixteen signed quants as float32, lane by lane (compiles to one sign extension and conversion).
    @inline(__always)
    package static func half(_ block: UnsafeRawPointer, _ h: Int) -> SIMD16<Float> {
        let q = (block + 2 + 16 * h).loadUnaligned(as: SIMD16<Int8>.self)
        var r = SIMD16<Float>()
        for l in 0..<16 { r[l] = Float(q[l]) }
        return r
    }

    package static func store(_ x: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ n: Int) {
        for b in 0..<(n >> 5) {
            let xs = x + 32 * b
            let block = dst + b * blockBytes
            var amax: Float = 0
            for i in 0..<32 { amax = max(amax, abs(xs[i])) }
            let d = amax / 127
            let id: Float = d != 0 ? 1 / d : 0
            block.storeBytes(of: HalfFloat.f32ToF16(d).littleEndian, as: UInt16.self)
            for i in 0..<32 {
                let v = (xs[i] * id).rounded(.toNearestOrAwayFromZero)
                // |v| ≤ 127 for finite input; a NaN key (a broken model) is stored as 0 rather than trapping.
                block.storeBytes(of: v.isFinite ? Int8(max(-127, min(127, v))) : 0, toByteOffset: 2 + i, as: Int8.self)
            }
        }
    }
}

/// Q4_0: `d` (f16), then 16 bytes; element i < 16 is the low nibble of byte i, element i + 16 its high
/// nibble, each `(nibble − 8) · d`. 18 bytes per 32 elements.
package enum Q4_0Element: KVBlockFormat {
    package static let blockBytes = 18

    /// The low (h = 0) or high (h = 1) nibbles of the block's 16 bytes, minus 8, as float32.
    @inline(__always)
    package static func half(_ block: UnsafeRawPointer, _ h: Int) -> SIMD16<Float> {
        let bytes = (block + 2).loadUnaligned(as: SIMD16<UInt8>.self)
        let q = h == 1 ? bytes &>> 4 : bytes & 0x0F
        var r = SIMD16<Float>()
        for l in 0..<16 { r[l] = Float(Int32(q[l]) - 8) }
        return r
    }

    package static func store(_ x: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ n: Int) {
        for b in 0..<(n >> 5) {
            let xs = x + 32 * b
            let block = dst + b * blockBytes
            // The element of largest magnitude (the first one on ties), with its sign: it maps to −8.
            var amax: Float = 0, signedMax: Float = 0
            for i in 0..<32 where amax < abs(xs[i]) {
                amax = abs(xs[i])
                signedMax = xs[i]
            }
            let d = signedMax / -8
            let id: Float = d != 0 ? 1 / d : 0
            block.storeBytes(of: HalfFloat.f32ToF16(d).littleEndian, as: UInt16.self)
            @inline(__always)
            func quant(_ v: Float) -> UInt8 {
                // x · id lies in [−8, 8], so x · id + 8.5 in [0.5, 16.5]: truncation, then at most 15.
                let t = v * id + 8.5
                return t.isFinite ? UInt8(min(15, max(0, Int(t)))) : 8
            }
            for i in 0..<16 {
                block.storeBytes(of: quant(xs[i]) | quant(xs[i + 16]) << 4, toByteOffset: 2 + i, as: UInt8.self)
            }
        }
    }
}
