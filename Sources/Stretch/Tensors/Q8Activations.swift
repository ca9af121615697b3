/// Activations quantized to 8 bits per 32-element block, for the integer dot products of ``IntegerDot``.
///
/// Each block `b` holds 32 signed values `q` and a float scale `scale[b]` with `x ≈ scale[b] · q`
/// (max-abs rounding, `|q| ≤ 127`, as llama.cpp's Q8_0), and `sum[b] = scale[b] · Σ q` for the formats
/// whose weights carry a min (Q4_K). The scale stays float32 (not f16): it costs nothing in the dot
/// product and keeps the activation error at the int8 rounding alone.
public struct Q8Activations {
    /// Elements (a multiple of 32).
    public let count: Int
    /// `count` quantized values.
    public let quants: UnsafeMutablePointer<Int8>
    /// `count / 32` block scales.
    public let scales: UnsafeMutablePointer<Float>
    /// `count / 32` block sums `scale · Σ q`.
    public let sums: UnsafeMutablePointer<Float>
    /// `count / 16` integer sums `Σ q` of 16 consecutive values (for Q6_K's per-16 scales).
    public let sums16: UnsafeMutablePointer<Int32>

    /// Allocates room for `count` elements; the caller calls ``deallocate()``.
    public init(count: Int) {
        precondition(count % 32 == 0, "Q8 activations need a multiple of 32 elements, got \(count)")
        self.count = count
        quants = .allocate(capacity: count)
        scales = .allocate(capacity: count / 32)
        sums = .allocate(capacity: count / 32)
        sums16 = .allocate(capacity: count / 16)
    }

    /// Frees the buffers.
    public func deallocate() {
        quants.deallocate()
        scales.deallocate()
        sums.deallocate()
        sums16.deallocate()
    }

    /// Quantizes `x[0..<count]` into this buffer.
    /// - Complexity: O(count).
    public func quantize(_ x: UnsafePointer<Float>) {
        let rx = UnsafeRawPointer(x)
        for b in 0..<(count / 32) {
            let v0 = rx.loadUnaligned(fromByteOffset: 128 * b, as: SIMD16<Float>.self)
            let v1 = rx.loadUnaligned(fromByteOffset: 128 * b + 64, as: SIMD16<Float>.self)
            let m = pointwiseMax(pointwiseMax(v0, -v0), pointwiseMax(v1, -v1)).max()
            let d = m / 127
            let inv: Float = m > 0 ? 127 / m : 0
            // Round to nearest by adding 1.5 · 2^23 (|v · inv| ≤ 127): the integer lands in the low
            // mantissa bits. The generic Float → Int32 SIMD conversion is a call per vector.
            let magic = SIMD16<Float>(repeating: 12_582_912), bias = SIMD16<Int32>(repeating: 0x4B40_0000)
            let q0 = unsafeBitCast(v0 * inv + magic, to: SIMD16<Int32>.self) &- bias
            let q1 = unsafeBitCast(v1 * inv + magic, to: SIMD16<Int32>.self) &- bias
            let out = UnsafeMutableRawPointer(quants + 32 * b)
            out.storeBytes(of: SIMD16<Int8>(truncatingIfNeeded: q0), as: SIMD16<Int8>.self)
            out.storeBytes(of: SIMD16<Int8>(truncatingIfNeeded: q1), toByteOffset: 16, as: SIMD16<Int8>.self)
            scales[b] = d
            let s0 = q0.wrappedSum(), s1 = q1.wrappedSum()
            sums16[2 * b] = s0
            sums16[2 * b + 1] = s1
            sums[b] = d * Float(s0 &+ s1)
        }
    }
}
