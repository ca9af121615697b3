import Foundation
import StretchKernelsC

/// Matrix products of activations with stored (possibly quantized) weights.
package enum MatMul {
    /// Rows of weights dequantized together in the batched path; they stay in L1/L2 while every token
    /// of the batch is multiplied with them.
    static let rowBlock = 16
    /// Rows per packed panel of the outer-product kernel (`stretch_gemm_panel32`).
    static let panelRows = 32
    /// Fewest tokens for the packed-panel path; below it, packing costs more than the dot tile loses.
    static let panelMinTokens: Int = {
        if let v = getenv("STRETCH_PANEL_MIN_TOKENS"), let n = Int(String(cString: v)) { return n }
        return 4
    }()

    /// Several products of the same input, `ys[m][t, r] = dot(x[t, :], ws[m][r, :])` (q/k/v, gate/up).
    ///
    /// One parallel loop over the rows of all matrices instead of one per matrix (fewer thread
    /// hand-offs per token), and in decode the activations are quantized once for all of them. Falls
    /// back to one ``multiply(_:_:tokens:_:workers:precision:)`` per matrix when the matrices cannot
    /// share a path.
    /// - Complexity: O(tokens · Σ rows · columns).
    package static func multiply(
        _ ws: [WeightMatrix], _ x: UnsafePointer<Float>, tokens: Int, _ ys: [UnsafeMutablePointer<Float>], workers: WorkerPool,
        precision: ComputePrecision = .f32
    ) {
        precondition(ws.count == ys.count, "one output per weight matrix")
        guard let cols = ws.first?.columns, ws.allSatisfy({ $0.columns == cols }) else {
            for (w, y) in zip(ws, ys) { multiply(w, x, tokens: tokens, y, workers: workers, precision: precision) }
            return
        }
        // Row offsets of each matrix in the concatenated row space.
        var starts = [0]
        for w in ws { starts.append(starts.last! + w.rows) }
        let total = starts.last!
        /// Calls `body(m, lo, hi)` for each matrix `m` overlapping the global rows `r0..<r1`, with local rows.
        @inline(__always)
        func split(_ r0: Int, _ r1: Int, _ body: (Int, Int, Int) -> Void) {
            for m in 0..<ws.count where starts[m] < r1 && starts[m + 1] > r0 {
                body(m, max(r0, starts[m]) - starts[m], min(r1, starts[m + 1]) - starts[m])
            }
        }
        if usesIntegerKernels(ws, tokens: tokens, precision: precision) {
            let xq = Q8Activations(count: cols)
            defer { xq.deallocate() }
            xq.quantize(x)
            let useC = IntegerDot.useC
            Parallel.forRanges(total, workers: workers, granularity: 16) { r0, r1 in
                split(r0, r1) { m, lo, hi in
                    let w = ws[m], y = ys[m]
                    if useC {
                        IntegerDot.dotRows(w.type, w.row(lo), rowBytes: w.rowBytes, rows: hi - lo, xq, y + lo)
                    } else {
                        for r in lo..<hi { y[r] = IntegerDot.dot(w.type, w.row(r), xq) }
                    }
                }
            }
            return
        }
        if Int8Gemm.serves(ws, tokens: tokens, precision: precision) {
            // Activations quantized once for every matrix; weights unpacked 16 rows at a time per thread.
            let xq = Int8Gemm.Activations(x, tokens: tokens, columns: cols, workers: workers)
            defer { xq.deallocate() }
            Parallel.forRanges(total, workers: workers, granularity: 16) { r0, r1 in
                let scratch = Int8Gemm.allocateScratch(columns: cols)
                defer { scratch.deallocate() }
                split(r0, r1) { m, lo, hi in
                    Int8Gemm.product(ws[m], lo, hi, xq, ys[m], ldy: ws[m].rows, scratch: scratch)
                }
            }
            return
        }
        if tokens >= panelMinTokens {
            // Chunks are multiples of 32 rows of the concatenated matrices; a matrix whose row count is
            // not a multiple of 32 ends in (and the next begins with) a partial panel.
            Parallel.forRanges(total, workers: workers, granularity: panelRows) { r0, r1 in
                let rowScratch = UnsafeMutablePointer<Float>.allocate(capacity: panelRows * cols)
                let panel = UnsafeMutablePointer<Float>.allocate(capacity: panelRows * cols)
                defer {
                    rowScratch.deallocate()
                    panel.deallocate()
                }
                split(r0, r1) { m, lo, hi in
                    panelProduct(ws[m], lo, hi, x, tokens: tokens, ys[m], rowScratch: rowScratch, panel: panel)
                }
            }
            return
        }
        for (w, y) in zip(ws, ys) { multiply(w, x, tokens: tokens, y, workers: workers, precision: precision) }
    }

    /// Whether a product takes the integer path: one token on `.auto`, every matrix in a format with an
    /// integer kernel, rows a whole number of 32-element activation blocks.
    static func usesIntegerKernels(_ ws: [WeightMatrix], tokens: Int, precision: ComputePrecision) -> Bool {
        tokens == 1 && precision == .auto && ws.allSatisfy { IntegerDot.supports($0.type) && $0.columns % 32 == 0 }
    }

    /// Rows `lo..<hi` of `w` times every token, 32 rows at a time through the packed-panel kernel.
    /// `rowScratch` and `panel` hold `panelRows × w.columns` floats each.
    @inline(__always)
    static func panelProduct(
        _ w: WeightMatrix, _ lo: Int, _ hi: Int, _ x: UnsafePointer<Float>, tokens: Int, _ y: UnsafeMutablePointer<Float>,
        rowScratch: UnsafeMutablePointer<Float>, panel: UnsafeMutablePointer<Float>
    ) {
        let cols = w.columns
        var rb = lo
        while rb < hi {
            let nr = min(panelRows, hi - rb)
            for k in 0..<nr { w.dequantizeRow(rb + k, into: rowScratch + k * cols) }
            stretch_pack_panel32(rowScratch, cols, Int32(nr), panel)
            stretch_gemm_panel32(panel, cols, x, cols, tokens, y + rb, w.rows, Int32(nr))
            rb += nr
        }
    }

    /// `y[t, r] = dot(x[t, :], W[r, :])` for `t < tokens`, `r < W.rows`.
    ///
    /// One token uses the fused dequantize+dot kernel (on `.auto`, the integer kernel of ``IntegerDot``
    /// against Q8-quantized activations where the format has one); several tokens take the int8 GEMM on
    /// `.auto` where ``Int8Gemm`` serves the format, otherwise dequantize a block of rows once into float32
    /// and reuse it for the whole batch.
    /// - Complexity: O(tokens · rows · columns).
    package static func multiply(
        _ w: WeightMatrix, _ x: UnsafePointer<Float>, tokens: Int, _ y: UnsafeMutablePointer<Float>, workers: WorkerPool,
        precision: ComputePrecision = .f32
    ) {
        let cols = w.columns
        let rows = w.rows
        if usesIntegerKernels([w], tokens: tokens, precision: precision) {
            multiply([w], x, tokens: tokens, [y], workers: workers, precision: precision)
            return
        }
        if tokens == 1 {
            Parallel.forRanges(rows, workers: workers, granularity: 16) { r0, r1 in
                let type = w.type
                for r in r0..<r1 {
                    y[r] = QuantizedDot.dot(type, w.row(r), x, count: cols)
                }
            }
            return
        }
        if tokens >= panelMinTokens {
            // Rows are dequantized 32 at a time, packed k-major, and multiplied with every token by the
            // outer-product kernel of StretchKernelsC (docs/DESIGN.md, "Kernels").
            multiply([w], x, tokens: tokens, [y], workers: workers, precision: precision)
            return
        }
        let block = rowBlock
        Parallel.forRanges(rows, workers: workers, granularity: block) { r0, r1 in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: block * cols)
            defer { scratch.deallocate() }
            var rb = r0
            while rb < r1 {
                let nr = min(block, r1 - rb)
                for k in 0..<nr { w.dequantizeRow(rb + k, into: scratch + k * cols) }
                var k = 0
                while k + 4 <= nr {
                    let wk = UnsafePointer(scratch + k * cols)
                    var t = 0
                    while t + 4 <= tokens {
                        tile4x4(wk, x + t * cols, cols, y + t * rows + rb + k, rows)
                        t += 4
                    }
                    while t < tokens {
                        let d = dot4(x + t * cols, wk, wk + cols, wk + 2 * cols, wk + 3 * cols, cols)
                        let yt = y + t * rows + rb + k
                        yt[0] = d.0; yt[1] = d.1; yt[2] = d.2; yt[3] = d.3
                        t += 1
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

    /// A 4-row × 4-token register tile: `y[t * ldy + r] = dot(x[t], w[r])` for `r, t < 4`, where rows of
    /// `w` and `x` are `n` floats apart.
    ///
    /// Sixteen accumulators fed by eight loads per step (two FMAs per load), where ``dot4`` needs five
    /// loads for four FMAs; the loop is then bound by FMA throughput instead of L1/L2 loads.
    /// - Complexity: O(16 · n).
    @inline(__always)
    static func tile4x4(
        _ w: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int, _ y: UnsafeMutablePointer<Float>, _ ldy: Int
    ) {
        let rw = UnsafeRawPointer(w), rx = UnsafeRawPointer(x)
        let sw = 4 &* n, sx = 4 &* n  // byte strides between rows / tokens
        var a00 = SIMD16<Float>(), a01 = SIMD16<Float>(), a02 = SIMD16<Float>(), a03 = SIMD16<Float>()
        var a10 = SIMD16<Float>(), a11 = SIMD16<Float>(), a12 = SIMD16<Float>(), a13 = SIMD16<Float>()
        var a20 = SIMD16<Float>(), a21 = SIMD16<Float>(), a22 = SIMD16<Float>(), a23 = SIMD16<Float>()
        var a30 = SIMD16<Float>(), a31 = SIMD16<Float>(), a32 = SIMD16<Float>(), a33 = SIMD16<Float>()
        var o = 0
        let end = 4 &* (n & ~15)
        while o < end {
            let w0 = rw.loadUnaligned(fromByteOffset: o, as: SIMD16<Float>.self)
            let w1 = rw.loadUnaligned(fromByteOffset: o &+ sw, as: SIMD16<Float>.self)
            let w2 = rw.loadUnaligned(fromByteOffset: o &+ 2 &* sw, as: SIMD16<Float>.self)
            let w3 = rw.loadUnaligned(fromByteOffset: o &+ 3 &* sw, as: SIMD16<Float>.self)
            let x0 = rx.loadUnaligned(fromByteOffset: o, as: SIMD16<Float>.self)
            a00 = a00.addingProduct(x0, w0); a01 = a01.addingProduct(x0, w1)
            a02 = a02.addingProduct(x0, w2); a03 = a03.addingProduct(x0, w3)
            let x1 = rx.loadUnaligned(fromByteOffset: o &+ sx, as: SIMD16<Float>.self)
            a10 = a10.addingProduct(x1, w0); a11 = a11.addingProduct(x1, w1)
            a12 = a12.addingProduct(x1, w2); a13 = a13.addingProduct(x1, w3)
            let x2 = rx.loadUnaligned(fromByteOffset: o &+ 2 &* sx, as: SIMD16<Float>.self)
            a20 = a20.addingProduct(x2, w0); a21 = a21.addingProduct(x2, w1)
            a22 = a22.addingProduct(x2, w2); a23 = a23.addingProduct(x2, w3)
            let x3 = rx.loadUnaligned(fromByteOffset: o &+ 3 &* sx, as: SIMD16<Float>.self)
            a30 = a30.addingProduct(x3, w0); a31 = a31.addingProduct(x3, w1)
            a32 = a32.addingProduct(x3, w2); a33 = a33.addingProduct(x3, w3)
            o &+= 64
        }
        store4(y, a00, a01, a02, a03)
        store4(y + ldy, a10, a11, a12, a13)
        store4(y + 2 * ldy, a20, a21, a22, a23)
        store4(y + 3 * ldy, a30, a31, a32, a33)
        var i = n & ~15
        while i < n {  // tail (n not a multiple of 16); rows and tokens are short here
            for t in 0..<4 {
                let xv = x[t * n + i]
                for r in 0..<4 { y[t * ldy + r] += xv * w[r * n + i] }
            }
            i += 1
        }
    }

    /// Stores the horizontal sums of four accumulators to `y[0..<4]`.
    ///
    /// Transposes pairwise (add halves) so four reductions share their shuffles.
    @inline(__always)
    static func store4(
        _ y: UnsafeMutablePointer<Float>, _ a: SIMD16<Float>, _ b: SIMD16<Float>, _ c: SIMD16<Float>,
        _ d: SIMD16<Float>
    ) {
        let ab = SIMD16<Float>(lowHalf: a.lowHalf + a.highHalf, highHalf: b.lowHalf + b.highHalf)
        let cd = SIMD16<Float>(lowHalf: c.lowHalf + c.highHalf, highHalf: d.lowHalf + d.highHalf)
        let s8ab = SIMD8<Float>(lowHalf: ab.lowHalf.lowHalf + ab.lowHalf.highHalf,
                                highHalf: ab.highHalf.lowHalf + ab.highHalf.highHalf)
        let s8cd = SIMD8<Float>(lowHalf: cd.lowHalf.lowHalf + cd.lowHalf.highHalf,
                                highHalf: cd.highHalf.lowHalf + cd.highHalf.highHalf)
        // s8ab = [a0..a3, b0..b3] partials, s8cd likewise; two more halvings give the four sums.
        let s4 = SIMD8<Float>(lowHalf: SIMD4(s8ab[0] + s8ab[1], s8ab[2] + s8ab[3], s8ab[4] + s8ab[5], s8ab[6] + s8ab[7]),
                              highHalf: SIMD4(s8cd[0] + s8cd[1], s8cd[2] + s8cd[3], s8cd[4] + s8cd[5], s8cd[6] + s8cd[7]))
        y[0] = s4[0] + s4[1]
        y[1] = s4[2] + s4[3]
        y[2] = s4[4] + s4[5]
        y[3] = s4[6] + s4[7]
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
