/// Fused dequantize-and-dot of one quantized row with a `Float` vector (single-token decode matvec).
///
/// No row-sized buffer: each block is unpacked into 16-lane registers (or, for a few types, a 4 KiB
/// stack tile, see ``Strategy``) and multiplied straight into `Float` accumulators. Per-block scales are applied once per 16/32 products (the block's partial sums
/// are scaled, not every weight), and two or more independent accumulators hide FP add latency.
/// Results equal the dequantize-then-dot value up to Float32 reassociation rounding.
package enum QuantizedDot {
    /// How a block format's dot product is evaluated.
    package enum Strategy: Sendable, CaseIterable {
        /// The measured-faster of the two below for each type (see ``dot(_:_:_:count:strategy:)``).
        case automatic
        /// Fully fused: unpack each block into registers and multiply-accumulate directly.
        case fused
        /// Dequantize 1024 elements at a time into a 4 KiB stack tile (L1), then dot from the tile.
        case tiled
    }

    /// Returns Σ row[i] * x[i] over `count` elements (a multiple of `type.blockSize`); `row` holds
    /// `type.rowBytes(count)` bytes in ggml block layout, `x` holds `count` floats.
    ///
    /// `.automatic` uses the tile for Q4_0, Q4_1, Q5_1, Q5_K and Q6_K: for those the Swift/LLVM SIMD lowering of
    /// the fused loop fragments into partial vectors and measured 1.1-2.5× slower than dequantizing
    /// into L1 first (skylake-avx512). Float formats are always fused. Q2_K, Q3_K, IQ4_NL and IQ4_XS have
    /// no fused loop and always take the tile: their decode path is the integer kernel of ``IntegerDot``,
    /// so this one only serves `--precision f32` decode.
    package static func dot(_ type: GGMLType, _ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int,
                           strategy: Strategy = .automatic) -> Float {
        precondition(count >= 0 && count % type.blockSize == 0, "count \(count) is not a multiple of \(type) block size")
        let useTile: Bool
        switch strategy {
        case .fused: useTile = false
        case .tiled: useTile = type.blockSize > 1
        case .automatic: useTile = type == .q4_0 || type == .q4_1 || type == .q5_1 || type == .q5_K || type == .q6_K
        }
        if useTile { return tiled(type, row, x, count) }
        switch type {
        case .f32: return f32(row, x, count)
        case .f16: return f16(row, x, count)
        case .bf16: return bf16(row, x, count)
        case .q8_0: return q8_0(row, x, count / 32)
        case .q4_0: return q4_0(row, x, count / 32)
        case .q4_1: return q4_1(row, x, count / 32)
        case .q5_0: return q5_0(row, x, count / 32)
        case .q5_1: return q5_1(row, x, count / 32)
        case .q4_K: return q4_K(row, x, count / 256)
        case .q5_K: return q5_K(row, x, count / 256)
        case .q6_K: return q6_K(row, x, count / 256)
        case .q2_K, .q3_K, .iq4_nl, .iq4_xs: return tiled(type, row, x, count)
        }
    }

    /// Dot via a small L1-resident tile: dequantize up to `tileElements` values with ``Dequantize/row``,
    /// then multiply-accumulate from the tile. Used where the optimizer schedules the fully fused loop badly
    /// (see ``Strategy``); the tile is on the stack, never a row-sized buffer.
    @inline(__always)
    static func tiled(_ type: GGMLType, _ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ count: Int) -> Float {
        let tileElements = 1024
        return withUnsafeTemporaryAllocation(of: Float.self, capacity: tileElements) { buffer -> Float in
            let tile = buffer.baseAddress!
            var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
            var start = 0
            while start < count {
                let n = min(tileElements, count - start)
                Dequantize.row(type, row + type.rowBytes(start), tile, count: n)
                var i = 0
                while i + 64 <= n {  // n is a multiple of 32 for block formats; float formats never come here
                    a0 += QuantLanes.floats(tile + i) * QuantLanes.floats(x + start + i)
                    a1 += QuantLanes.floats(tile + i + 16) * QuantLanes.floats(x + start + i + 16)
                    a2 += QuantLanes.floats(tile + i + 32) * QuantLanes.floats(x + start + i + 32)
                    a3 += QuantLanes.floats(tile + i + 48) * QuantLanes.floats(x + start + i + 48)
                    i += 64
                }
                if i < n {  // one remaining 32-element block
                    a0 += QuantLanes.floats(tile + i) * QuantLanes.floats(x + start + i)
                    a1 += QuantLanes.floats(tile + i + 16) * QuantLanes.floats(x + start + i + 16)
                }
                start += n
            }
            return ((a0 + a1) + (a2 + a3)).sum()
        }
    }

    // MARK: - Float formats

    static func f32(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ count: Int) -> Float {
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
        var i = 0
        while i + 64 <= count {
            a0 += row.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self) * QuantLanes.floats(x + i)
            a1 += row.loadUnaligned(fromByteOffset: 4 * i + 64, as: SIMD16<Float>.self) * QuantLanes.floats(x + i + 16)
            a2 += row.loadUnaligned(fromByteOffset: 4 * i + 128, as: SIMD16<Float>.self) * QuantLanes.floats(x + i + 32)
            a3 += row.loadUnaligned(fromByteOffset: 4 * i + 192, as: SIMD16<Float>.self) * QuantLanes.floats(x + i + 48)
            i += 64
        }
        var sum = ((a0 + a1) + (a2 + a3)).sum()
        while i < count {
            sum += row.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) * x[i]
            i += 1
        }
        return sum
    }

    static func f16(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ count: Int) -> Float {
        // Element loop with 16 interleaved partial sums; LLVM vectorizes it (vcvtph2ps + FMA-free mul/add).
        var acc = SIMD16<Float>()
        var i = 0
        while i + 16 <= count {
            var w = SIMD16<Float>()
            for k in 0..<16 {
                w[k] = HalfFloat.f16ToF32(UInt16(littleEndian: row.loadUnaligned(fromByteOffset: 2 * (i + k), as: UInt16.self)))
            }
            acc += w * QuantLanes.floats(x + i)
            i += 16
        }
        var sum = acc.sum()
        while i < count {
            sum += HalfFloat.f16ToF32(UInt16(littleEndian: row.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) * x[i]
            i += 1
        }
        return sum
    }

    static func bf16(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ count: Int) -> Float {
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>()
        var i = 0
        while i + 32 <= count {
            let r0 = QuantLanes.wideHalves(row, 2 * i)
            let r1 = QuantLanes.wideHalves(row, 2 * i + 32)
            a0 += unsafeBitCast(r0 &<< 16, to: SIMD16<Float>.self) * QuantLanes.floats(x + i)
            a1 += unsafeBitCast(r1 &<< 16, to: SIMD16<Float>.self) * QuantLanes.floats(x + i + 16)
            i += 32
        }
        var sum = (a0 + a1).sum()
        while i < count {
            sum += HalfFloat.bf16ToF32(UInt16(littleEndian: row.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) * x[i]
            i += 1
        }
        return sum
    }

    // MARK: - 32-element block formats

    static func q8_0(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ blocks: Int) -> Float {
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>()
        for b in 0..<blocks {
            let p = row + b * 34, xb = x + b * 32
            let d = QuantLanes.half(p, 0)
            let s0 = QuantLanes.int8ToFloat(QuantLanes.wideBytes(p, 2)) * QuantLanes.floats(xb)
            let s1 = QuantLanes.int8ToFloat(QuantLanes.wideBytes(p, 18)) * QuantLanes.floats(xb + 16)
            a0 += s0 * d
            a1 += s1 * d
        }
        return (a0 + a1).sum()
    }

    static func q4_0(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ blocks: Int) -> Float {
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>()
        for b in 0..<blocks {
            let p = row + b * 18, xb = x + b * 32
            let d = QuantLanes.half(p, 0)
            let qs = QuantLanes.wideBytes(p, 2)
            a0 += (QuantLanes.toFloat(qs & 0x0F, minus: 8) * QuantLanes.floats(xb)) * d
            a1 += (QuantLanes.toFloat(qs &>> 4, minus: 8) * QuantLanes.floats(xb + 16)) * d
        }
        return (a0 + a1).sum()
    }

    static func q4_1(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ blocks: Int) -> Float {
        // Σ (q d + m) x = d Σ q x + m Σ x: scale the q·x partials by d and the x partials by m.
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>()
        for b in 0..<blocks {
            let p = row + b * 20, xb = x + b * 32
            let d = QuantLanes.half(p, 0), m = QuantLanes.half(p, 2)
            let qs = QuantLanes.wideBytes(p, 4)
            let x0 = QuantLanes.floats(xb), x1 = QuantLanes.floats(xb + 16)
            let qx = QuantLanes.toFloat(qs & 0x0F, minus: 0) * x0 + QuantLanes.toFloat(qs &>> 4, minus: 0) * x1
            a0 += qx * d
            a1 += (x0 + x1) * m
        }
        return (a0 + a1).sum()
    }

    static func q5_0(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ blocks: Int) -> Float {
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>()
        for b in 0..<blocks {
            let p = row + b * 22, xb = x + b * 32
            let d = QuantLanes.half(p, 0)
            let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
            let qs = QuantLanes.wideBytes(p, 6)
            let lo = (qs & 0x0F) | QuantLanes.q5HighBits(qh, first: 0)
            let hi = (qs &>> 4) | QuantLanes.q5HighBits(qh, first: 16)
            a0 += (QuantLanes.toFloat(lo, minus: 16) * QuantLanes.floats(xb)) * d
            a1 += (QuantLanes.toFloat(hi, minus: 16) * QuantLanes.floats(xb + 16)) * d
        }
        return (a0 + a1).sum()
    }

    static func q5_1(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ blocks: Int) -> Float {
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>()
        for b in 0..<blocks {
            let p = row + b * 24, xb = x + b * 32
            let d = QuantLanes.half(p, 0), m = QuantLanes.half(p, 2)
            let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            let qs = QuantLanes.wideBytes(p, 8)
            let lo = (qs & 0x0F) | QuantLanes.q5HighBits(qh, first: 0)
            let hi = (qs &>> 4) | QuantLanes.q5HighBits(qh, first: 16)
            let x0 = QuantLanes.floats(xb), x1 = QuantLanes.floats(xb + 16)
            let qx = QuantLanes.toFloat(lo, minus: 0) * x0 + QuantLanes.toFloat(hi, minus: 0) * x1
            a0 += qx * d
            a1 += (x0 + x1) * m
        }
        return (a0 + a1).sum()
    }

    // MARK: - K-quants

    static func q4_K(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ blocks: Int) -> Float {
        // Per sub-block: Σ (d1 q - m1) x = d1 Σ q x - m1 Σ x. qx/sx partials are scaled per sub-block.
        var accQ = SIMD16<Float>(), accM = SIMD16<Float>()
        for b in 0..<blocks {
            let p = row + b * 144, xb = x + b * 256
            let d = QuantLanes.half(p, 0), dmin = QuantLanes.half(p, 2)
            let table = p + 4, qs = p + 16
            for c in 0..<4 {
                let (s1, m1) = QuantLanes.scaleMinK4(table, 2 * c)
                let (s2, m2) = QuantLanes.scaleMinK4(table, 2 * c + 1)
                let q0 = QuantLanes.wideBytes(qs, 32 * c), q1 = QuantLanes.wideBytes(qs, 32 * c + 16)
                let xc = xb + 64 * c
                let x0 = QuantLanes.floats(xc), x1 = QuantLanes.floats(xc + 16)
                let x2 = QuantLanes.floats(xc + 32), x3 = QuantLanes.floats(xc + 48)
                let qxLo = QuantLanes.toFloat(q0 & 0x0F, minus: 0) * x0 + QuantLanes.toFloat(q1 & 0x0F, minus: 0) * x1
                let qxHi = QuantLanes.toFloat(q0 &>> 4, minus: 0) * x2 + QuantLanes.toFloat(q1 &>> 4, minus: 0) * x3
                accQ += qxLo * (d * Float(s1)) + qxHi * (d * Float(s2))
                accM += (x0 + x1) * (dmin * Float(m1)) + (x2 + x3) * (dmin * Float(m2))
            }
        }
        return (accQ - accM).sum()
    }

    static func q5_K(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ blocks: Int) -> Float {
        var accQ = SIMD16<Float>(), accM = SIMD16<Float>()
        for b in 0..<blocks {
            let p = row + b * 176, xb = x + b * 256
            let d = QuantLanes.half(p, 0), dmin = QuantLanes.half(p, 2)
            let table = p + 4, qs = p + 48
            let qh0 = QuantLanes.wideBytes(p, 16), qh1 = QuantLanes.wideBytes(p, 32)
            for c in 0..<4 {
                let (s1, m1) = QuantLanes.scaleMinK4(table, 2 * c)
                let (s2, m2) = QuantLanes.scaleMinK4(table, 2 * c + 1)
                let shiftLo = UInt32(2 * c), shiftHi = UInt32(2 * c + 1)
                let q0 = QuantLanes.wideBytes(qs, 32 * c), q1 = QuantLanes.wideBytes(qs, 32 * c + 16)
                let lo0 = (q0 & 0x0F) | (((qh0 &>> shiftLo) & 1) &<< 4)
                let lo1 = (q1 & 0x0F) | (((qh1 &>> shiftLo) & 1) &<< 4)
                let hi0 = (q0 &>> 4) | (((qh0 &>> shiftHi) & 1) &<< 4)
                let hi1 = (q1 &>> 4) | (((qh1 &>> shiftHi) & 1) &<< 4)
                let xc = xb + 64 * c
                let x0 = QuantLanes.floats(xc), x1 = QuantLanes.floats(xc + 16)
                let x2 = QuantLanes.floats(xc + 32), x3 = QuantLanes.floats(xc + 48)
                let qxLo = QuantLanes.toFloat(lo0, minus: 0) * x0 + QuantLanes.toFloat(lo1, minus: 0) * x1
                let qxHi = QuantLanes.toFloat(hi0, minus: 0) * x2 + QuantLanes.toFloat(hi1, minus: 0) * x3
                accQ += qxLo * (d * Float(s1)) + qxHi * (d * Float(s2))
                accM += (x0 + x1) * (dmin * Float(m1)) + (x2 + x3) * (dmin * Float(m2))
            }
        }
        return (accQ - accM).sum()
    }

    static func q6_K(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ blocks: Int) -> Float {
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>()
        for b in 0..<blocks {
            let p = row + b * 210, xb = x + b * 256
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
                    let xo = xb + 128 * n + 16 * h
                    a0 += (QuantLanes.toFloat(q1, minus: 32) * QuantLanes.floats(xo)) * (d * Float(scales[s]))
                    a1 += (QuantLanes.toFloat(q2, minus: 32) * QuantLanes.floats(xo + 32)) * (d * Float(scales[s + 2]))
                    a0 += (QuantLanes.toFloat(q3, minus: 32) * QuantLanes.floats(xo + 64)) * (d * Float(scales[s + 4]))
                    a1 += (QuantLanes.toFloat(q4, minus: 32) * QuantLanes.floats(xo + 96)) * (d * Float(scales[s + 6]))
                }
            }
        }
        return (a0 + a1).sum()
    }
}

