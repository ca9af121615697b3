import StretchKernelsC

/// Activations quantized to 8 bits per 32-element block, for the integer dot products of ``IntegerDot``.
///
/// Each block `b` holds 32 signed values `q` and a float scale `scale[b]` with `x ≈ scale[b] · q`
/// (max-abs rounding, `|q| ≤ 127`, as llama.cpp's Q8_0), and `sum[b] = scale[b] · Σ q` for the formats
/// whose weights carry a min (Q4_K). The scale stays float32 (not f16): it costs nothing in the dot
/// product and keeps the activation error at the int8 rounding alone.
package struct Q8Activations {
    /// Elements (a multiple of 32).
    package let count: Int
    /// `count` quantized values.
    package let quants: UnsafeMutablePointer<Int8>
    /// `count / 32` block scales.
    package let scales: UnsafeMutablePointer<Float>
    /// `count / 32` block sums `scale · Σ q`.
    package let sums: UnsafeMutablePointer<Float>
    /// `count / 16` integer sums `Σ q` of 16 consecutive values (for Q6_K's per-16 scales).
    package let sums16: UnsafeMutablePointer<Int32>

    /// Allocates room for `count` elements; the caller calls ``deallocate()``.
    package init(count: Int) {
        precondition(count % 32 == 0, "Q8 activations need a multiple of 32 elements, got \(count)")
        self.count = count
        quants = .allocate(capacity: count)
        scales = .allocate(capacity: count / 32)
        sums = .allocate(capacity: count / 32)
        sums16 = .allocate(capacity: count / 16)
    }

    /// Frees the buffers.
    package func deallocate() {
        quants.deallocate()
        scales.deallocate()
        sums.deallocate()
        sums16.deallocate()
    }

    /// Quantizes `x[0..<count]` into this buffer (max-abs scale per 32 values, round to nearest even).
    ///
    /// Done in C (`stretch_quantize_q8`): the Swift version spent 4% of decode here, in generic
    /// `SIMD16<Int8>(truncatingIfNeeded:)` and `wrappedSum()` calls.
    /// - Complexity: O(count).
    package func quantize(_ x: UnsafePointer<Float>) {
        stretch_quantize_q8(x, count, quants, scales, sums, sums16)
    }
}
