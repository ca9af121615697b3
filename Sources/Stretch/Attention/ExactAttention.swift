import Foundation
import StretchKernelsC

/// Tiled, online-softmax (flash-style) causal attention with positions as an input.
///
/// A pair (query `i`, key `j`) uses the near copies (rotated at true positions) when `i − j < window` and
/// the far copies otherwise (SELF_EXTEND.md §2); with a chunk split (Dual Chunk Attention) a key in the
/// query's chunk uses the near query, one in the previous chunk the middle query, older ones the far
/// query, all against the one key copy. Every pair of a row enters the same online softmax. One work item is one KV head and a tile of queries:
/// every query head sharing that KV head (GQA) and several query tokens ("rows") stream the same
/// key/value tiles, each row keeping a running max, sum and output accumulator.
///
/// Per key tile of 64 keys the item widens the keys once to float32, transposed (`kT[d][j]`), only in
/// the copies some row needs (near, far, or both on the boundary tiles), and the values once
/// (`v[j][d]`). Scores are then vectorized over keys (`s[j…j+15] += q[d] · kT[d][j…j+15]`, four rows
/// sharing each load, no horizontal sums), the softmax uses a vector `exp`, and P·V keeps four rows'
/// accumulators in registers for the whole tile. Memory per thread is
/// `3 · 64 · headDim + rows · (headDim + 3 · 64 + 16)` floats — independent of N, never an N×N matrix.
/// Head dims that are not a multiple of 16 (stories260K: 8) take a row-at-a-time path.
package enum ExactAttention {
    /// Query tokens per work item.
    static let queryTile = 8
    /// Keys per tile.
    static let keyTile = 64

    /// Attention for `tokens` new queries at positions `start ..< start + tokens`, whose keys and values
    /// are already in `cache` (layer `layer`).
    ///
    /// - Parameters:
    ///   - qNear: `[tokens][heads][headDim]` queries rotated at true positions (already scaled).
    ///   - split: which keys use the far, middle and near queries (``KeySplit``).
    ///   - sharedKeys: far pairs read the near key copy (the map keeps one copy).
    ///   - qFar: the same rotated at far query positions; nil when the split has no far band.
    ///   - qMiddle: the same rotated at middle query positions; nil unless the split is by chunks.
    ///   - out: `[tokens][heads][headDim]`.
    ///   - softCap: when positive, each scaled score `s` becomes `softCap · tanh(s / softCap)` before the
    ///     softmax (Gemma 2's attention logit soft-capping); 0 leaves scores as they are.
    /// - Complexity: O(tokens · (start + tokens) · heads · headDim) time, O(keyTile · headDim +
    ///   queryTile · group · (headDim + keyTile)) memory per thread.
    static func run<K: KVElement, V: KVElement>(
        _: K.Type, _: V.Type, cache: KVCache, layer: Int, start: Int, tokens: Int, heads: Int, split: KeySplit, sharedKeys: Bool,
        slidingWindow: Int = Int.max, softCap: Float = 0, qNear: UnsafePointer<Float>, qFar: UnsafePointer<Float>?,
        qMiddle: UnsafePointer<Float>? = nil, out: UnsafeMutablePointer<Float>, workers: WorkerPool
    ) {
        if cache.headDim % 16 == 0 {
            runTiled(
                K.self, V.self, cache: cache, layer: layer, start: start, tokens: tokens, heads: heads, split: split,
                sharedKeys: sharedKeys, slidingWindow: slidingWindow, softCap: softCap, qNear: qNear, qFar: qFar,
                qMiddle: qMiddle, out: out, workers: workers)
        } else {
            runRowwise(
                K.self, V.self, cache: cache, layer: layer, start: start, tokens: tokens, heads: heads, split: split,
                sharedKeys: sharedKeys, slidingWindow: slidingWindow, softCap: softCap, qNear: qNear, qFar: qFar,
                qMiddle: qMiddle, out: out, workers: workers)
        }
    }

    /// The tiled kernel (headDim a multiple of 16).
    static func runTiled<K: KVElement, V: KVElement>(
        _: K.Type, _: V.Type, cache: KVCache, layer: Int, start: Int, tokens: Int, heads: Int, split: KeySplit, sharedKeys: Bool,
        slidingWindow: Int, softCap: Float, qNear: UnsafePointer<Float>, qFar: UnsafePointer<Float>?,
        qMiddle: UnsafePointer<Float>?, out: UnsafeMutablePointer<Float>, workers: WorkerPool
    ) {
        let hd = cache.headDim
        let keyBytes = cache.keyRowBytes, valueBytes = cache.valueRowBytes
        let kvHeads = cache.kvHeads
        let group = heads / kvHeads
        let scale = 1 / Float(hd).squareRoot()
        let tq = queryTile
        let tk = keyTile
        precondition(tk == 64, "the tiled kernel holds a key tile in four SIMD16 vectors")
        let tilesPerHead = (tokens + tq - 1) / tq
        let items = kvHeads * tilesPerHead
        // Several interleaved parts per thread, claimed dynamically by the worker pool.
        let threads = workers.participants
        let parts = threads <= 1 ? 1 : max(1, min(4 * threads, items))
        let useFar = qFar != nil && split != .none
        let qFarBase = qFar ?? qNear
        let qMidBase = qMiddle ?? qNear

        let work: (Int) -> Void = { p in
            let maxRows = group * tq
            let tileFloats = tk * hd
            let kTNear = UnsafeMutablePointer<Float>.allocate(capacity: tileFloats)
            let kTFar = UnsafeMutablePointer<Float>.allocate(capacity: tileFloats)
            let vTile = UnsafeMutablePointer<Float>.allocate(capacity: tileFloats)
            let sNear = UnsafeMutablePointer<Float>.allocate(capacity: maxRows * tk)
            let sFar = UnsafeMutablePointer<Float>.allocate(capacity: maxRows * tk)
            let sMid = UnsafeMutablePointer<Float>.allocate(capacity: maxRows * tk)
            let probs = UnsafeMutablePointer<Float>.allocate(capacity: maxRows * tk)
            let laneMax = UnsafeMutablePointer<Float>.allocate(capacity: maxRows * 16)
            let acc = UnsafeMutablePointer<Float>.allocate(capacity: maxRows * hd)
            let rowMax = UnsafeMutablePointer<Float>.allocate(capacity: maxRows)
            let rowSum = UnsafeMutablePointer<Float>.allocate(capacity: maxRows)
            let corr = UnsafeMutablePointer<Float>.allocate(capacity: maxRows)
            // Per row: query offset, then lanes [a, f) far, [f, m) middle, [m, b) near in the current tile.
            let ints = UnsafeMutablePointer<Int>.allocate(capacity: 9 * maxRows)
            let qOff = ints, rowA = ints + maxRows, rowF = ints + 2 * maxRows, rowB = ints + 3 * maxRows
            let active = ints + 4 * maxRows, farRows = ints + 5 * maxRows, nearRows = ints + 6 * maxRows
            let rowM = ints + 7 * maxRows, midRows = ints + 8 * maxRows
            // lessThan(k) = the 16 words at `masks + 16 − k`: all ones in lanes l < k.
            let masks = UnsafeMutablePointer<UInt32>.allocate(capacity: 32)
            masks.initialize(repeating: ~0, count: 16)
            (masks + 16).initialize(repeating: 0, count: 16)
            // Lanes of a tile outside the converted keys are read (and masked); keep them finite.
            kTNear.initialize(repeating: 0, count: tileFloats)
            kTFar.initialize(repeating: 0, count: tileFloats)
            vTile.initialize(repeating: 0, count: tileFloats)
            // Rows without a middle band still read (and mask) these lanes.
            sMid.initialize(repeating: 0, count: maxRows * tk)
            defer {
                for f in [kTNear, kTFar, vTile, sNear, sFar, sMid, probs, laneMax, acc, rowMax, rowSum, corr] { f.deallocate() }
                ints.deallocate()
                masks.deallocate()
            }
            // Interleave items so both threads get early (short) and late (long) query tiles.
            var item = p
            while item < items {
                // Later tiles are longer (causal): walk them from the end so the costliest start first.
                let tile = tilesPerHead - 1 - item / kvHeads
                let kvh = item % kvHeads
                let t0 = tile * tq
                let t1 = min(tokens, t0 + tq)
                let nt = t1 - t0
                let rows = nt * group
                acc.initialize(repeating: 0, count: rows * hd)
                rowMax.initialize(repeating: -Float.infinity, count: rows)
                rowSum.initialize(repeating: 0, count: rows)
                for r in 0..<rows { qOff[r] = ((t0 + r / group) * heads + kvh * group + r % group) * hd }
                let nearSlots = cache.nearKeySlots(layer, kvh)
                let farSlots = useFar && !sharedKeys ? cache.farKeySlots(layer, kvh) : nearSlots
                let valueSlots = cache.valueSlots(layer, kvh)
                let lastKey = start + t1 - 1
                // With a sliding window, keys before the earliest row's window are never read.
                let firstKey = slidingWindow == Int.max ? 0 : max(0, start + t0 - slidingWindow + 1)
                var j0 = firstKey / tk * tk
                while j0 <= lastKey {
                    let j1 = min(j0 + tk, lastKey + 1)
                    // The next tile's keys and values, requested now: a tile's loads otherwise wait on memory
                    // (decode at 4k spent half its attention time stalled on the key loads).
                    if j1 <= lastKey {
                        let next = min(tk, lastKey + 1 - j1)
                        stretch_prefetch(nearSlots.tile(j1), next * keyBytes)
                        if useFar && !sharedKeys { stretch_prefetch(farSlots.tile(j1), next * keyBytes) }
                        stretch_prefetch(valueSlots.tile(j1), next * valueBytes)
                    }
                    // The tile's slots (consecutive: no tile wraps a ring). Near-key slots of keys no row
                    // reads as near may hold other tokens; they are read at block edges and masked.
                    let kNear = nearSlots.tile(j0), kFar = farSlots.tile(j0), vals = valueSlots.tile(j0)
                    // Which rows see which keys of this tile, and the hulls of keys each copy must supply.
                    var nActive = 0, nFar = 0, nNear = 0, nMid = 0
                    var farLo = tk, farHi = 0, nearLo = tk, nearHi = 0, valLo = tk, valHi = 0
                    for tt in 0..<nt {
                        let i = start + t0 + tt
                        if j0 > i { continue }
                        let jEnd = min(j1, i + 1)
                        let jStart = slidingWindow == Int.max ? j0 : max(j0, i - slidingWindow + 1)
                        if jStart >= jEnd { continue }
                        let a = jStart - j0, b = jEnd - j0
                        // Keys before the split's bounds use the far, then the middle query (clamped to the tile).
                        let bounds = split.bounds(query: i)
                        let f = useFar ? min(max(bounds.far - j0, a), b) : a
                        let m = useFar ? min(max(bounds.middle - j0, f), b) : a
                        valLo = min(valLo, a)
                        valHi = max(valHi, b)
                        if f > a {
                            if sharedKeys {
                                nearLo = min(nearLo, a)
                                nearHi = max(nearHi, f)
                            } else {
                                farLo = min(farLo, a)
                                farHi = max(farHi, f)
                            }
                        }
                        if b > f {
                            nearLo = min(nearLo, f)
                            nearHi = max(nearHi, b)
                        }
                        for g in 0..<group {
                            let r = tt * group + g
                            rowA[r] = a
                            rowF[r] = f
                            rowM[r] = m
                            rowB[r] = b
                            active[nActive] = r
                            nActive += 1
                            if f > a {
                                farRows[nFar] = r
                                nFar += 1
                            }
                            if m > f {
                                midRows[nMid] = r
                                nMid += 1
                            }
                            if b > m {
                                nearRows[nNear] = r
                                nNear += 1
                            }
                        }
                    }
                    if nActive > 0 {
                        let valid = j1 - j0
                        if nFar > 0 && !sharedKeys {
                            transposeKeys(K.self, kFar, keyBytes, kTFar, hd, farLo, farHi, valid)
                            scoreRows(farRows, nFar, qFarBase, qOff, kTFar, hd, sFar)
                        }
                        if nearHi > nearLo {
                            transposeKeys(K.self, kNear, keyBytes, kTNear, hd, nearLo, nearHi, valid)
                        }
                        if nFar > 0 && sharedKeys { scoreRows(farRows, nFar, qFarBase, qOff, kTNear, hd, sFar) }
                        if nMid > 0 { scoreRows(midRows, nMid, qMidBase, qOff, kTNear, hd, sMid) }
                        if nNear > 0 { scoreRows(nearRows, nNear, qNear, qOff, kTNear, hd, sNear) }
                        for j in valLo..<valHi { V.widen(vals + j * valueBytes, vTile + j * hd, hd) }
                        for x in 0..<nActive {
                            let r = active[x]
                            maskRow(
                                sNear + r * tk, sFar + r * tk, sMid + r * tk, laneMax + 16 * r, rowA[r], rowF[r], rowM[r],
                                rowB[r], masks, scale, softCap)
                        }
                        for x in 0..<nActive {
                            let r = active[x]
                            expRow(sNear + r * tk, laneMax + 16 * r, probs + r * tk, rowMax + r, rowSum + r, corr + r)
                        }
                        accumulateRows(active, nActive, rowA, rowB, probs, corr, vTile, acc, hd)
                    }
                    j0 = j1
                }
                for r in 0..<rows {
                    let t = t0 + r / group
                    let h = kvh * group + r % group
                    let o = out + (t * heads + h) * hd
                    let inv = 1 / rowSum[r]
                    let a = acc + r * hd
                    for d in 0..<hd { o[d] = a[d] * inv }
                }
                item += parts
            }
        }
        if parts == 1 {
            work(0)
        } else {
            Parallel.forRanges(parts, workers: workers) { s, e in
                for p in s..<e { work(p) }
            }
        }
    }

    /// Sixteen float32 vectors: a 16×16 block in registers.
    typealias Block = (
        SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>,
        SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>,
        SIMD16<Float>, SIMD16<Float>
    )

    /// One round of the transpose: vectors m and m+8 → the even and odd lanes of their concatenation.
    @inline(__always)
    static func unzip(_ v: Block) -> Block {
        @inline(__always)
        func u(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> (SIMD16<Float>, SIMD16<Float>) {
            let c = SIMD32(lowHalf: a, highHalf: b)
            return (c.evenHalf, c.oddHalf)
        }
        let (w0, w1) = u(v.0, v.8), (w2, w3) = u(v.1, v.9), (w4, w5) = u(v.2, v.10), (w6, w7) = u(v.3, v.11)
        let (w8, w9) = u(v.4, v.12), (w10, w11) = u(v.5, v.13), (w12, w13) = u(v.6, v.14), (w14, w15) = u(v.7, v.15)
        return (w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, w14, w15)
    }

    /// Widens keys `lo ..< hi` of a tile (rounded out to blocks of 16) to float32, transposed into
    /// `kT[d · 64 + j]`. Keys at or past `valid` are not read (they may lie past the cache's end).
    ///
    /// Each 16×16 block is four `unzip` rounds (64 two-source permutes). A round moves the lowest lane-index
    /// bit into the vector index and the highest vector-index bit into the lane index, so after four rounds
    /// loading key m into vector `rev(m)` (4-bit reversal) leaves dimension `rev(s)` in vector s,
    /// lanes = keys.
    @inline(__always)
    static func transposeKeys<E: KVElement>(
        _: E.Type, _ k: UnsafeRawPointer, _ rowBytes: Int, _ kT: UnsafeMutablePointer<Float>, _ hd: Int,
        _ lo: Int, _ hi: Int, _ valid: Int
    ) {
        let out = UnsafeMutableRawPointer(kT)
        var jb = lo / 16 * 16
        while jb < hi {
            let full = jb + 16 <= valid
            var d0 = 0
            while d0 < hd {
                @inline(__always)
                func key(_ m: Int) -> SIMD16<Float> {
                    full || jb + m < valid ? E.load16(k + (jb + m) * rowBytes, d0) : SIMD16<Float>()
                }
                var v: Block = (
                    key(0), key(8), key(4), key(12), key(2), key(10), key(6), key(14),
                    key(1), key(9), key(5), key(13), key(3), key(11), key(7), key(15)
                )
                v = unzip(unzip(unzip(unzip(v))))
                let o = out + 4 * (d0 * 64 + jb)
                @inline(__always)
                func put(_ d: Int, _ x: SIMD16<Float>) { o.storeBytes(of: x, toByteOffset: 256 * d, as: SIMD16<Float>.self) }
                put(0, v.0)
                put(8, v.1)
                put(4, v.2)
                put(12, v.3)
                put(2, v.4)
                put(10, v.5)
                put(6, v.6)
                put(14, v.7)
                put(1, v.8)
                put(9, v.9)
                put(5, v.10)
                put(13, v.11)
                put(3, v.12)
                put(11, v.13)
                put(7, v.14)
                put(15, v.15)
                d0 += 16
            }
            jb += 16
        }
    }

    /// Raw scores `q · k` of the listed rows against the 64 keys of a transposed tile, into
    /// `scores[r · 64 …]`; four rows at a time share every key load (a short last group repeats a row).
    @inline(__always)
    static func scoreRows(
        _ list: UnsafePointer<Int>, _ n: Int, _ q: UnsafePointer<Float>, _ qOff: UnsafePointer<Int>,
        _ kT: UnsafePointer<Float>, _ hd: Int, _ scores: UnsafeMutablePointer<Float>
    ) {
        let rk = UnsafeRawPointer(kT)
        var x = 0
        while x < n {
            if n - x == 1 {
                let r = list[x]
                let q0 = q + qOff[r]
                var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
                for d in 0..<hd {
                    let kd = rk + 256 * d
                    let b = SIMD16<Float>(repeating: q0[d])
                    a0 = a0.addingProduct(b, kd.loadUnaligned(as: SIMD16<Float>.self))
                    a1 = a1.addingProduct(b, kd.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self))
                    a2 = a2.addingProduct(b, kd.loadUnaligned(fromByteOffset: 128, as: SIMD16<Float>.self))
                    a3 = a3.addingProduct(b, kd.loadUnaligned(fromByteOffset: 192, as: SIMD16<Float>.self))
                }
                let o = UnsafeMutableRawPointer(scores + r * 64)
                o.storeBytes(of: a0, as: SIMD16<Float>.self)
                o.storeBytes(of: a1, toByteOffset: 64, as: SIMD16<Float>.self)
                o.storeBytes(of: a2, toByteOffset: 128, as: SIMD16<Float>.self)
                o.storeBytes(of: a3, toByteOffset: 192, as: SIMD16<Float>.self)
                x += 1
                continue
            }
            let r0 = list[x], r1 = list[min(x + 1, n - 1)], r2 = list[min(x + 2, n - 1)], r3 = list[min(x + 3, n - 1)]
            let q0 = q + qOff[r0], q1 = q + qOff[r1], q2 = q + qOff[r2], q3 = q + qOff[r3]
            if !RegisterTile4x64.fitsInRegisters {
                // Four passes of 16 lanes: four accumulators, one key load per d shared by the four rows.
                for l in 0..<4 {
                    var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
                    for d in 0..<hd {
                        let k = rk.loadUnaligned(fromByteOffset: 256 * d + 64 * l, as: SIMD16<Float>.self)
                        a0 = a0.addingProduct(SIMD16(repeating: q0[d]), k)
                        a1 = a1.addingProduct(SIMD16(repeating: q1[d]), k)
                        a2 = a2.addingProduct(SIMD16(repeating: q2[d]), k)
                        a3 = a3.addingProduct(SIMD16(repeating: q3[d]), k)
                    }
                    let o = UnsafeMutableRawPointer(scores + 16 * l)
                    o.storeBytes(of: a0, toByteOffset: 256 * r0, as: SIMD16<Float>.self)
                    o.storeBytes(of: a1, toByteOffset: 256 * r1, as: SIMD16<Float>.self)
                    o.storeBytes(of: a2, toByteOffset: 256 * r2, as: SIMD16<Float>.self)
                    o.storeBytes(of: a3, toByteOffset: 256 * r3, as: SIMD16<Float>.self)
                }
                x += 4
                continue
            }
            var tile = RegisterTile4x64()
            for d in 0..<hd { tile.accumulate(q0[d], q1[d], q2[d], q3[d], rk + 256 * d) }
            tile.store(row: 0, to: UnsafeMutableRawPointer(scores + r0 * 64))
            tile.store(row: 1, to: UnsafeMutableRawPointer(scores + r1 * 64))
            tile.store(row: 2, to: UnsafeMutableRawPointer(scores + r2 * 64))
            tile.store(row: 3, to: UnsafeMutableRawPointer(scores + r3 * 64))
            x += 4
        }
    }

    /// First half of a row's softmax step for a tile: picks far scores for lanes `[a, f)`, middle ones for
    /// `[f, m)` and near ones for `[m, b)`, scales them, sets the other lanes to −inf, writes the result over `sNear`, and stores the
    /// lane-wise maximum of its four vectors in `laneMax`.
    ///
    /// Selects are bitwise with masks loaded from `masks` (compare-based selects of SIMD types compile
    /// to per-lane code); the lane maxima are finished by ``expRow`` in a separate loop, because a
    /// horizontal max right after the vector max makes the compiler split the vector max up.
    @inline(__always)
    static func maskRow(
        _ sNear: UnsafeMutablePointer<Float>, _ sFar: UnsafePointer<Float>, _ sMid: UnsafePointer<Float>,
        _ laneMax: UnsafeMutablePointer<Float>, _ a: Int, _ f: Int, _ m: Int, _ b: Int, _ masks: UnsafePointer<UInt32>,
        _ scale: Float, _ softCap: Float
    ) {
        let rm = UnsafeRawPointer(masks)
        let rn = UnsafeMutableRawPointer(sNear), rf = UnsafeRawPointer(sFar), rmid = UnsafeRawPointer(sMid)
        let negInf = unsafeBitCast(SIMD16<Float>(repeating: -.infinity), to: SIMD16<UInt32>.self)
        let vScale = SIMD16<Float>(repeating: scale)
        @inline(__always)
        func lessThan(_ k: Int) -> SIMD16<UInt32> {
            rm.loadUnaligned(fromByteOffset: 4 &* (16 &- Swift.min(Swift.max(k, 0), 16)), as: SIMD16<UInt32>.self)
        }
        @inline(__always)
        func lanes(_ c: Int) -> SIMD16<Float> {
            let base = 16 * c
            let valid = lessThan(b &- base) & ~lessThan(a &- base)
            let far = lessThan(f &- base)
            let notNear = lessThan(m &- base)
            let n = unsafeBitCast(rn.loadUnaligned(fromByteOffset: 4 * base, as: SIMD16<Float>.self), to: SIMD16<UInt32>.self)
            let x = unsafeBitCast(rf.loadUnaligned(fromByteOffset: 4 * base, as: SIMD16<Float>.self), to: SIMD16<UInt32>.self)
            let y = unsafeBitCast(rmid.loadUnaligned(fromByteOffset: 4 * base, as: SIMD16<Float>.self), to: SIMD16<UInt32>.self)
            var s = unsafeBitCast((x & far) | (y & notNear & ~far) | (n & ~notNear), to: SIMD16<Float>.self) * vScale
            if softCap > 0 { s = softCapped(s, softCap) }
            let r = unsafeBitCast((unsafeBitCast(s, to: SIMD16<UInt32>.self) & valid) | (negInf & ~valid), to: SIMD16<Float>.self)
            rn.storeBytes(of: r, toByteOffset: 4 * base, as: SIMD16<Float>.self)
            return r
        }
        let s0 = lanes(0), s1 = lanes(1), s2 = lanes(2), s3 = lanes(3)
        // This compare-and-replace form compiles to vmaxps (pointwiseMax does not).
        let m01 = s0.replacing(with: s1, where: s1 .> s0)
        let m23 = s2.replacing(with: s3, where: s3 .> s2)
        UnsafeMutableRawPointer(laneMax).storeBytes(of: m01.replacing(with: m23, where: m23 .> m01), as: SIMD16<Float>.self)
    }

    /// `cap · tanh(s / cap)` lane by lane (Gemma 2; scalar, as only soft-capped models pay for it).
    @inline(never)
    static func softCapped(_ s: SIMD16<Float>, _ cap: Float) -> SIMD16<Float> {
        var r = s
        for i in 0..<16 { r[i] = cap * tanhf(s[i] / cap) }
        return r
    }

    /// Second half of a row's softmax step: updates the running max and sum from the masked scores `s`
    /// and their lane maxima, writes the unnormalized probabilities (0 on masked lanes) and the factor
    /// `corr` the accumulator must be multiplied by.
    @inline(__always)
    static func expRow(
        _ s: UnsafePointer<Float>, _ laneMax: UnsafePointer<Float>, _ probs: UnsafeMutablePointer<Float>,
        _ rowMax: UnsafeMutablePointer<Float>, _ rowSum: UnsafeMutablePointer<Float>, _ corr: UnsafeMutablePointer<Float>
    ) {
        var tileMax = laneMax[0]
        for l in 1..<16 {
            let y = laneMax[l]
            tileMax = y > tileMax ? y : tileMax
        }
        let oldMax = rowMax.pointee
        let newMax = tileMax > oldMax ? tileMax : oldMax
        var c: Float = 1
        if newMax > oldMax && oldMax != -Float.infinity { c = expf(oldMax - newMax) }
        rowMax.pointee = newMax
        corr.pointee = c
        let m = SIMD16<Float>(repeating: newMax)
        let rs = UnsafeRawPointer(s)
        let p0 = VectorOps.exp(rs.loadUnaligned(as: SIMD16<Float>.self) - m)
        let p1 = VectorOps.exp(rs.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self) - m)
        let p2 = VectorOps.exp(rs.loadUnaligned(fromByteOffset: 128, as: SIMD16<Float>.self) - m)
        let p3 = VectorOps.exp(rs.loadUnaligned(fromByteOffset: 192, as: SIMD16<Float>.self) - m)
        let rp = UnsafeMutableRawPointer(probs)
        rp.storeBytes(of: p0, as: SIMD16<Float>.self)
        rp.storeBytes(of: p1, toByteOffset: 64, as: SIMD16<Float>.self)
        rp.storeBytes(of: p2, toByteOffset: 128, as: SIMD16<Float>.self)
        rp.storeBytes(of: p3, toByteOffset: 192, as: SIMD16<Float>.self)
        rowSum.pointee = rowSum.pointee * c + VectorOps.horizontalSum((p0 + p1) + (p2 + p3))
    }

    /// `acc[r] = acc[r] · corr[r] + Σ_j p[r][j] · v[j]` for the listed rows, four rows and 64 output
    /// lanes at a time held in registers over the keys (a short last group repeats a row: it loads,
    /// computes and stores the same values twice).
    @inline(__always)
    static func accumulateRows(
        _ list: UnsafePointer<Int>, _ n: Int, _ rowA: UnsafePointer<Int>, _ rowB: UnsafePointer<Int>,
        _ probs: UnsafePointer<Float>, _ corr: UnsafePointer<Float>, _ v: UnsafePointer<Float>,
        _ acc: UnsafeMutablePointer<Float>, _ hd: Int
    ) {
        let rv = UnsafeRawPointer(v)
        let ra = UnsafeMutableRawPointer(acc)
        var x = 0
        while x < n {
            let r0 = list[x], r1 = list[min(x + 1, n - 1)], r2 = list[min(x + 2, n - 1)], r3 = list[min(x + 3, n - 1)]
            let single = n - x == 1
            let lo = min(min(rowA[r0], rowA[r1]), min(rowA[r2], rowA[r3]))
            let hi = max(max(rowB[r0], rowB[r1]), max(rowB[r2], rowB[r3]))
            let p0 = probs + r0 * 64, p1 = probs + r1 * 64, p2 = probs + r2 * 64, p3 = probs + r3 * 64
            let c0 = SIMD16<Float>(repeating: corr[r0]), c1 = SIMD16<Float>(repeating: corr[r1])
            let c2 = SIMD16<Float>(repeating: corr[r2]), c3 = SIMD16<Float>(repeating: corr[r3])
            var e = 0
            while e < hd {
                if single {
                    // One row left: 16 lanes at a time, four vectors in flight where the width allows.
                    let w = min(64, hd - e)
                    let base = ra + 4 * (r0 * hd + e)
                    var a0 = base.loadUnaligned(as: SIMD16<Float>.self) * c0
                    var a1 = w > 16 ? base.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self) * c0 : SIMD16()
                    var a2 = w > 32 ? base.loadUnaligned(fromByteOffset: 128, as: SIMD16<Float>.self) * c0 : SIMD16()
                    var a3 = w > 48 ? base.loadUnaligned(fromByteOffset: 192, as: SIMD16<Float>.self) * c0 : SIMD16()
                    if w == 64 {
                        for j in lo..<hi {
                            let vj = rv + 4 * (j * hd + e)
                            let b = SIMD16<Float>(repeating: p0[j])
                            a0 = a0.addingProduct(b, vj.loadUnaligned(as: SIMD16<Float>.self))
                            a1 = a1.addingProduct(b, vj.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self))
                            a2 = a2.addingProduct(b, vj.loadUnaligned(fromByteOffset: 128, as: SIMD16<Float>.self))
                            a3 = a3.addingProduct(b, vj.loadUnaligned(fromByteOffset: 192, as: SIMD16<Float>.self))
                        }
                    } else {
                        for j in lo..<hi {
                            let vj = rv + 4 * (j * hd + e)
                            let b = SIMD16<Float>(repeating: p0[j])
                            a0 = a0.addingProduct(b, vj.loadUnaligned(as: SIMD16<Float>.self))
                            if w > 16 { a1 = a1.addingProduct(b, vj.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)) }
                            if w > 32 { a2 = a2.addingProduct(b, vj.loadUnaligned(fromByteOffset: 128, as: SIMD16<Float>.self)) }
                        }
                    }
                    base.storeBytes(of: a0, as: SIMD16<Float>.self)
                    if w > 16 { base.storeBytes(of: a1, toByteOffset: 64, as: SIMD16<Float>.self) }
                    if w > 32 { base.storeBytes(of: a2, toByteOffset: 128, as: SIMD16<Float>.self) }
                    if w > 48 { base.storeBytes(of: a3, toByteOffset: 192, as: SIMD16<Float>.self) }
                    e += w
                    continue
                }
                if hd - e < 64 || !RegisterTile4x64.fitsInRegisters {
                    // A head width that is not a multiple of 64, or registers too few for the 4 × 64 tile:
                    // 16 lanes of each row at a time.
                    var a0 = ra.loadUnaligned(fromByteOffset: 4 * (r0 * hd + e), as: SIMD16<Float>.self) * c0
                    var a1 = ra.loadUnaligned(fromByteOffset: 4 * (r1 * hd + e), as: SIMD16<Float>.self) * c1
                    var a2 = ra.loadUnaligned(fromByteOffset: 4 * (r2 * hd + e), as: SIMD16<Float>.self) * c2
                    var a3 = ra.loadUnaligned(fromByteOffset: 4 * (r3 * hd + e), as: SIMD16<Float>.self) * c3
                    for j in lo..<hi {
                        let vj = rv.loadUnaligned(fromByteOffset: 4 * (j * hd + e), as: SIMD16<Float>.self)
                        a0 = a0.addingProduct(SIMD16(repeating: p0[j]), vj)
                        a1 = a1.addingProduct(SIMD16(repeating: p1[j]), vj)
                        a2 = a2.addingProduct(SIMD16(repeating: p2[j]), vj)
                        a3 = a3.addingProduct(SIMD16(repeating: p3[j]), vj)
                    }
                    ra.storeBytes(of: a3, toByteOffset: 4 * (r3 * hd + e), as: SIMD16<Float>.self)
                    ra.storeBytes(of: a2, toByteOffset: 4 * (r2 * hd + e), as: SIMD16<Float>.self)
                    ra.storeBytes(of: a1, toByteOffset: 4 * (r1 * hd + e), as: SIMD16<Float>.self)
                    ra.storeBytes(of: a0, toByteOffset: 4 * (r0 * hd + e), as: SIMD16<Float>.self)
                    e += 16
                    continue
                }
                var tile = RegisterTile4x64(
                    ra + 4 * (r0 * hd + e), c0, ra + 4 * (r1 * hd + e), c1,
                    ra + 4 * (r2 * hd + e), c2, ra + 4 * (r3 * hd + e), c3)
                for j in lo..<hi { tile.accumulate(p0[j], p1[j], p2[j], p3[j], rv + 4 * (j * hd + e)) }
                // Stores in reverse so a repeated row (r3 = r2 = …) ends with identical values either way.
                tile.store(row: 3, to: ra + 4 * (r3 * hd + e))
                tile.store(row: 2, to: ra + 4 * (r2 * hd + e))
                tile.store(row: 1, to: ra + 4 * (r1 * hd + e))
                tile.store(row: 0, to: ra + 4 * (r0 * hd + e))
                e += 64
            }
            x += single ? 1 : 4
        }
    }

    /// The row-at-a-time kernel: one dot product per (row, key), used for head widths that are not a
    /// multiple of 16.
    static func runRowwise<K: KVElement, V: KVElement>(
        _: K.Type, _: V.Type, cache: KVCache, layer: Int, start: Int, tokens: Int, heads: Int, split: KeySplit, sharedKeys: Bool,
        slidingWindow: Int = Int.max, softCap: Float = 0, qNear: UnsafePointer<Float>, qFar: UnsafePointer<Float>?,
        qMiddle: UnsafePointer<Float>? = nil, out: UnsafeMutablePointer<Float>, workers: WorkerPool
    ) {
        let hd = cache.headDim
        let keyBytes = cache.keyRowBytes, valueBytes = cache.valueRowBytes
        let kvHeads = cache.kvHeads
        let group = heads / kvHeads
        let scale = 1 / Float(hd).squareRoot()
        let tq = queryTile
        let tk = keyTile
        let tilesPerHead = (tokens + tq - 1) / tq
        let items = kvHeads * tilesPerHead
        // Several interleaved parts per thread, claimed dynamically by the worker pool.
        let threads = workers.participants
        let parts = threads <= 1 ? 1 : max(1, min(4 * threads, items))
        let useFar = qFar != nil && split != .none

        let work: (Int) -> Void = { p in
            let maxRows = group * tq
            let acc = UnsafeMutablePointer<Float>.allocate(capacity: maxRows * hd)
            let rowMax = UnsafeMutablePointer<Float>.allocate(capacity: maxRows)
            let rowSum = UnsafeMutablePointer<Float>.allocate(capacity: maxRows)
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: tk)
            defer {
                acc.deallocate()
                rowMax.deallocate()
                rowSum.deallocate()
                scores.deallocate()
            }
            // Interleave items so both threads get early (short) and late (long) query tiles.
            var item = p
            while item < items {
                // Later tiles are longer (causal): walk them from the end so the costliest start first.
                let tile = tilesPerHead - 1 - item / kvHeads
                let kvh = item % kvHeads
                let t0 = tile * tq
                let t1 = min(tokens, t0 + tq)
                let nt = t1 - t0
                let rows = nt * group
                acc.initialize(repeating: 0, count: rows * hd)
                rowMax.initialize(repeating: -Float.infinity, count: rows)
                rowSum.initialize(repeating: 0, count: rows)
                let nearSlots = cache.nearKeySlots(layer, kvh)
                let farSlots = useFar && !sharedKeys ? cache.farKeySlots(layer, kvh) : nearSlots
                let valueSlots = cache.valueSlots(layer, kvh)
                let lastKey = start + t1 - 1
                // With a sliding window, keys before the earliest row's window are never read.
                let firstKey = slidingWindow == Int.max ? 0 : max(0, start + t0 - slidingWindow + 1)
                var j0 = firstKey / tk * tk
                while j0 <= lastKey {
                    let j1 = min(j0 + tk, lastKey + 1)
                    // Token j of this tile is `j − j0` slots on (no tile wraps a ring).
                    let kNear = nearSlots.tile(j0), kFar = farSlots.tile(j0), vals = valueSlots.tile(j0)
                    for r in 0..<rows {
                        let t = t0 + r / group
                        let h = kvh * group + r % group
                        let i = start + t
                        if j0 > i { continue }
                        let jEnd = min(j1, i + 1)
                        let jStart = slidingWindow == Int.max ? j0 : max(j0, i - slidingWindow + 1)
                        if jStart >= jEnd { continue }
                        let qOffset = (t * heads + h) * hd
                        let qn = qNear + qOffset
                        // Keys before bounds.far use the far query, then before bounds.middle the middle one.
                        let bounds = useFar ? split.bounds(query: i) : (far: 0, middle: 0)
                        var tileMax = -Float.infinity
                        var j = jStart
                        if bounds.far > jStart {
                            let qf = qFar! + qOffset
                            let farStop = min(jEnd, bounds.far)
                            while j < farStop {
                                var s = K.dot(qf, kFar + (j - j0) * keyBytes, hd) * scale
                                if softCap > 0 { s = softCap * tanhf(s / softCap) }
                                scores[j - j0] = s
                                tileMax = max(tileMax, s)
                                j += 1
                            }
                        }
                        if bounds.middle > j, let qMiddle {
                            let qm = qMiddle + qOffset
                            let midStop = min(jEnd, bounds.middle)
                            while j < midStop {
                                var s = K.dot(qm, kNear + (j - j0) * keyBytes, hd) * scale
                                if softCap > 0 { s = softCap * tanhf(s / softCap) }
                                scores[j - j0] = s
                                tileMax = max(tileMax, s)
                                j += 1
                            }
                        }
                        while j < jEnd {
                            var s = K.dot(qn, kNear + (j - j0) * keyBytes, hd) * scale
                            if softCap > 0 { s = softCap * tanhf(s / softCap) }
                            scores[j - j0] = s
                            tileMax = max(tileMax, s)
                            j += 1
                        }
                        let a = acc + r * hd
                        let oldMax = rowMax[r]
                        let newMax = max(oldMax, tileMax)
                        if newMax > oldMax && oldMax != -Float.infinity {
                            let correction = expf(oldMax - newMax)
                            VectorOps.scale(a, correction, hd)
                            rowSum[r] *= correction
                        }
                        rowMax[r] = newMax
                        // Exponentials sixteen at a time in place (scalar expf was a fifth of stories260K's
                        // prefill), then the weighted sum of values.
                        let rs = UnsafeMutableRawPointer(scores)
                        let m16 = SIMD16<Float>(repeating: newMax)
                        var e0 = jStart - j0
                        let e1 = jEnd - j0
                        while e0 + 16 <= e1 {
                            let v = rs.loadUnaligned(fromByteOffset: 4 * e0, as: SIMD16<Float>.self)
                            rs.storeBytes(of: VectorOps.exp(v - m16), toByteOffset: 4 * e0, as: SIMD16<Float>.self)
                            e0 += 16
                        }
                        while e0 < e1 {
                            scores[e0] = expf(scores[e0] - newMax)
                            e0 += 1
                        }
                        var sum: Float = 0
                        if hd == 8 {
                            // stories260K: keep the 8-float accumulator in a register across the tile; an
                            // axpy through memory per key serialized on store-to-load forwarding.
                            // Two accumulators (even and odd keys) halve the FMA latency chain.
                            var a8 = UnsafeRawPointer(a).loadUnaligned(as: SIMD8<Float>.self), b8 = SIMD8<Float>()
                            var jj = jStart
                            while jj + 2 <= jEnd {
                                let e0 = scores[jj - j0], e1 = scores[jj + 1 - j0]
                                sum += e0 + e1
                                a8 = a8.addingProduct(SIMD8(repeating: e0), V.load8(vals + (jj - j0) * valueBytes))
                                b8 = b8.addingProduct(SIMD8(repeating: e1), V.load8(vals + (jj + 1 - j0) * valueBytes))
                                jj += 2
                            }
                            if jj < jEnd {
                                let e0 = scores[jj - j0]
                                sum += e0
                                a8 = a8.addingProduct(SIMD8(repeating: e0), V.load8(vals + (jj - j0) * valueBytes))
                            }
                            UnsafeMutableRawPointer(a).storeBytes(of: a8 + b8, as: SIMD8<Float>.self)
                        } else {
                            for jj in jStart..<jEnd {
                                let e = scores[jj - j0]
                                sum += e
                                V.axpy(e, vals + (jj - j0) * valueBytes, a, hd)
                            }
                        }
                        rowSum[r] += sum
                    }
                    j0 = j1
                }
                for r in 0..<rows {
                    let t = t0 + r / group
                    let h = kvh * group + r % group
                    let o = out + (t * heads + h) * hd
                    let inv = 1 / rowSum[r]
                    let a = acc + r * hd
                    for d in 0..<hd { o[d] = a[d] * inv }
                }
                item += parts
            }
        }
        if parts == 1 {
            work(0)
        } else {
            Parallel.forRanges(parts, workers: workers) { s, e in
                for p in s..<e { work(p) }
            }
        }
    }
}
