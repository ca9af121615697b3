import StretchKernelsC

extension MatMul {
    /// How one sequence's rows of a batched product are computed: the path a product of that sequence
    /// alone would take, so a batch gives every sequence the numbers it would get on its own.
    private enum SegmentPath {
        /// One token, `.auto`, integer kernel against its own Q8 activations (quantized per row).
        case integer(Q8Activations)
        /// One token, fused dequantize+dot (float formats, `.f32`).
        case fused
        /// Two or three tokens: dequantized rows, four-row dot products.
        case dotTile
        /// Four or more tokens: the packed-panel outer-product kernel.
        case panel
        /// Four or more tokens, `.auto`, a format ``Int8Gemm`` serves: the int8 GEMM.
        case int8(Int8Gemm.Activations)
    }

    /// Products of several sequences' activations stacked in `x` with the same weights:
    /// `segments[i]` consecutive rows of `x` (and of each `ys[m]`) belong to sequence `i`.
    ///
    /// One parallel loop over blocks of 32 weight rows: each block is read from memory (and dequantized
    /// or packed where a segment needs it) once, then multiplied with every segment while it is in
    /// L1/L2 — decode is bound by streaming the weights, so B sequences cost little more than one. Each
    /// segment takes the path a product of that sequence alone takes (integer kernel with per-row Q8
    /// activations for one `.auto` token, dot tile below ``panelMinTokens``, panel GEMM or, on `.auto`,
    /// the int8 GEMM above), and every
    /// path computes each output from its weight row and token row alone, so the results equal the
    /// per-sequence products bit for bit (`BatchedForwardTests`).
    /// - Complexity: O(Σ segments · Σ rows · columns).
    package static func multiply(
        _ ws: [WeightMatrix], _ x: UnsafePointer<Float>, segments: [Int], _ ys: [UnsafeMutablePointer<Float>],
        workers: WorkerPool, precision: ComputePrecision = .f32
    ) {
        precondition(ws.count == ys.count, "one output per weight matrix")
        let tokens = segments.reduce(0, +)
        if segments.count == 1 {
            multiply(ws, x, tokens: tokens, ys, workers: workers, precision: precision)
            return
        }
        guard let cols = ws.first?.columns, ws.allSatisfy({ $0.columns == cols }) else {
            for (w, y) in zip(ws, ys) {
                multiply([w], x, segments: segments, [y], workers: workers, precision: precision)
            }
            return
        }
        var offsets: [Int] = []
        var o = 0
        for s in segments {
            offsets.append(o)
            o += s
        }
        let integer = segments.contains(1) && usesIntegerKernels(ws, tokens: 1, precision: precision)
        let paths: [SegmentPath] = segments.enumerated().map { i, n in
            if n == 1 {
                guard integer else { return .fused }
                let xq = Q8Activations(count: cols)
                xq.quantize(x + offsets[i] * cols)
                return .integer(xq)
            }
            if Int8Gemm.serves(ws, tokens: n, precision: precision) {
                return .int8(Int8Gemm.Activations(x + offsets[i] * cols, tokens: n, columns: cols, workers: workers))
            }
            return n >= panelMinTokens ? .panel : .dotTile
        }
        defer {
            for case let .integer(xq) in paths { xq.deallocate() }
            for case let .int8(xq) in paths { xq.deallocate() }
        }
        // One-token `.auto` segments go through the C kernels together (each weight block unpacked once
        // for all of them); the Swift kernels, when selected, take them one by one.
        let useC = IntegerDot.useC
        let integerSegments = paths.indices.filter { if case .integer = paths[$0] { return useC }; return false }
        let integerViews: [StretchQ8] = integerSegments.map {
            guard case let .integer(xq) = paths[$0] else { preconditionFailure() }
            return IntegerDot.cView(xq)
        }
        let needsRows = paths.contains { if case .dotTile = $0 { return true } else if case .panel = $0 { return true }; return false }
        let needsPanel = paths.contains { if case .panel = $0 { return true }; return false }
        let needsInt8 = paths.contains { if case .int8 = $0 { return true }; return false }
        var starts = [0]
        for w in ws { starts.append(starts.last! + w.rows) }
        // The views point into the activations' storage, which `paths` keeps until the defer above.
        integerViews.withUnsafeBufferPointer { viewBuffer in
            let views = viewBuffer.baseAddress
            let prepared = IntegerDot.PreparedActivations(viewBuffer, columns: cols)
            defer { prepared.deallocate() }
            Parallel.forRanges(starts.last!, workers: workers, granularity: panelRows) { r0, r1 in
                let rowScratch = UnsafeMutablePointer<Float>.allocate(capacity: needsRows ? panelRows * cols : 1)
                let panel = UnsafeMutablePointer<Float>.allocate(capacity: needsPanel ? panelRows * cols : 1)
                let outputs = UnsafeMutablePointer<UnsafeMutablePointer<Float>?>.allocate(capacity: max(1, integerSegments.count))
                let int8Scratch = Int8Gemm.allocateScratch(columns: needsInt8 ? cols : 32)
                defer {
                    int8Scratch.deallocate()
                    rowScratch.deallocate()
                    panel.deallocate()
                    outputs.deallocate()
                }
                for m in 0..<ws.count where starts[m] < r1 && starts[m + 1] > r0 {
                    let w = ws[m], y = ys[m], rows = w.rows
                    var rb = max(r0, starts[m]) - starts[m]
                    let hi = min(r1, starts[m + 1]) - starts[m]
                    while rb < hi {
                        let nr = min(panelRows, hi - rb)
                        if needsRows { for k in 0..<nr { w.dequantizeRow(rb + k, into: rowScratch + k * cols) } }
                        if needsPanel { stretch_pack_panel32(rowScratch, cols, Int32(nr), panel) }
                        if let views, !integerSegments.isEmpty {
                            for (j, i) in integerSegments.enumerated() { outputs[j] = y + offsets[i] * rows + rb }
                            IntegerDot.dotRows(w.type, w.row(rb), rowBytes: w.rowBytes, rows: nr, views,
                                               count: integerSegments.count, prepared: prepared, outputs)
                        }
                        for (i, path) in paths.enumerated() {
                            let xs = x + offsets[i] * cols, n = segments[i]
                            let ys = y + offsets[i] * rows + rb
                            switch path {
                            case let .integer(xq):
                                if !useC {
                                    for k in 0..<nr { ys[k] = IntegerDot.dot(w.type, w.row(rb + k), xq) }
                                }
                            case .fused:
                                for k in 0..<nr { ys[k] = QuantizedDot.dot(w.type, w.row(rb + k), xs, count: cols) }
                            case .panel:
                                stretch_gemm_panel32(panel, cols, xs, cols, n, ys, rows, Int32(nr))
                            case let .int8(xq):
                                Int8Gemm.product(
                                    w, rb, rb + nr, xq, y + offsets[i] * rows, ldy: rows, scratch: int8Scratch)
                            case .dotTile:
                                dotTile(rowScratch, rows: nr, xs, tokens: n, cols: cols, ys, ldy: rows)
                            }
                        }
                        rb += nr
                    }
                }
            }
        }
    }

    /// `y[t · ldy + k] = dot(x[t], w[k])` for `k < rows`, `t < tokens`, four rows at a time: the
    /// arithmetic of the few-token path of ``multiply(_:_:tokens:_:workers:precision:)``.
    @inline(__always)
    private static func dotTile(
        _ w: UnsafePointer<Float>, rows nr: Int, _ x: UnsafePointer<Float>, tokens: Int, cols: Int,
        _ y: UnsafeMutablePointer<Float>, ldy: Int
    ) {
        var k = 0
        while k + 4 <= nr {
            let wk = w + k * cols
            var t = 0
            while t + 4 <= tokens {
                tile4x4(wk, x + t * cols, cols, y + t * ldy + k, ldy)
                t += 4
            }
            while t < tokens {
                let d = dot4(x + t * cols, wk, wk + cols, wk + 2 * cols, wk + 3 * cols, cols)
                let yt = y + t * ldy + k
                yt[0] = d.0; yt[1] = d.1; yt[2] = d.2; yt[3] = d.3
                t += 1
            }
            k += 4
        }
        while k < nr {
            let wk = w + k * cols
            for t in 0..<tokens { y[t * ldy + k] = VectorOps.dot(x + t * cols, wk, cols) }
            k += 1
        }
    }
}
