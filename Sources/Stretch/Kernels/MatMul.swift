/// Matrix products of activations with stored (possibly quantized) weights.
public enum MatMul {
    /// Rows of weights dequantized together in the batched path; they stay in L1/L2 while every token
    /// of the batch is multiplied with them.
    static let rowBlock = 16

    /// `y[t, r] = dot(x[t, :], W[r, :])` for `t < tokens`, `r < W.rows`.
    ///
    /// One token uses the fused dequantize+dot kernel; several tokens dequantize a block of rows once
    /// into float32 and reuse it for the whole batch.
    /// - Complexity: O(tokens · rows · columns).
    public static func multiply(
        _ w: WeightMatrix, _ x: UnsafePointer<Float>, tokens: Int, _ y: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let cols = w.columns
        let rows = w.rows
        if tokens == 1 {
            Parallel.forRanges(rows, threads: threads, granularity: 16) { r0, r1 in
                let type = w.type
                for r in r0..<r1 {
                    y[r] = QuantizedDot.dot(type, w.row(r), x, count: cols)
                }
            }
            return
        }
        let block = rowBlock
        Parallel.forRanges(rows, threads: threads, granularity: block) { r0, r1 in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: block * cols)
            defer { scratch.deallocate() }
            var rb = r0
            while rb < r1 {
                let nr = min(block, r1 - rb)
                for k in 0..<nr { w.dequantizeRow(rb + k, into: scratch + k * cols) }
                var k = 0
                while k + 4 <= nr {
                    let w0 = UnsafePointer(scratch + k * cols)
                    let w1 = w0 + cols, w2 = w1 + cols, w3 = w2 + cols
                    for t in 0..<tokens {
                        let xt = x + t * cols
                        let d = dot4(xt, w0, w1, w2, w3, cols)
                        let yt = y + t * rows + rb + k
                        yt[0] = d.0; yt[1] = d.1; yt[2] = d.2; yt[3] = d.3
                    }
                    k += 4
                }
                while k < nr {
                    let wk = UnsafePointer(scratch + k * cols)
                    for t in 0..<tokens { y[t * rows + rb + k] = VectorOps.dot(x + t * cols, wk, cols) }
                    k += 1
                }
                rb += nr
            }
        }
    }

    /// Four dot products sharing one activation vector: each load of `x` feeds four FMAs.
    @inline(__always)
    static func dot4(
        _ x: UnsafePointer<Float>, _ w0: UnsafePointer<Float>, _ w1: UnsafePointer<Float>,
        _ w2: UnsafePointer<Float>, _ w3: UnsafePointer<Float>, _ n: Int
    ) -> (Float, Float, Float, Float) {
        let rx = UnsafeRawPointer(x)
        let r0 = UnsafeRawPointer(w0), r1 = UnsafeRawPointer(w1), r2 = UnsafeRawPointer(w2), r3 = UnsafeRawPointer(w3)
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
        var i = 0
        while i + 16 <= n {
            let o = i * 4
            let xv = rx.loadUnaligned(fromByteOffset: o, as: SIMD16<Float>.self)
            a0 = a0.addingProduct(xv, r0.loadUnaligned(fromByteOffset: o, as: SIMD16<Float>.self))
            a1 = a1.addingProduct(xv, r1.loadUnaligned(fromByteOffset: o, as: SIMD16<Float>.self))
            a2 = a2.addingProduct(xv, r2.loadUnaligned(fromByteOffset: o, as: SIMD16<Float>.self))
            a3 = a3.addingProduct(xv, r3.loadUnaligned(fromByteOffset: o, as: SIMD16<Float>.self))
            i += 16
        }
        var s0 = a0.sum(), s1 = a1.sum(), s2 = a2.sum(), s3 = a3.sum()
        while i < n {
            let xv = x[i]
            s0 += xv * w0[i]; s1 += xv * w1[i]; s2 += xv * w2[i]; s3 += xv * w3[i]
            i += 1
        }
        return (s0, s1, s2, s3)
    }
}
