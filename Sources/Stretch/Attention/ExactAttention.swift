import Foundation

/// Tiled, online-softmax (flash-style) causal attention with positions as an input.
///
/// A pair (query `i`, key `j`) uses the near copies (rotated at true positions) when `i − j < window` and
/// the far copies otherwise (SELF_EXTEND.md §2). One work item is one KV head and a tile of queries:
/// every query head sharing that KV head (GQA) and several query tokens stream the same key/value
/// tiles from L1, each row keeping a running max, sum and output accumulator. Memory per thread is
/// `rows × (headDim + keyTile)` floats — independent of N, never an N×N matrix.
public enum ExactAttention {
    /// Query tokens per work item.
    static let queryTile = 8
    /// Keys per tile.
    static let keyTile = 64

    /// Attention for `tokens` new queries at positions `start ..< start + tokens`, whose keys and values
    /// are already in `cache` (layer `layer`).
    ///
    /// - Parameters:
    ///   - qNear: `[tokens][heads][headDim]` queries rotated at true positions (already scaled).
    ///   - qFar: the same rotated at far query positions; nil when `window == Int.max`.
    ///   - out: `[tokens][heads][headDim]`.
    /// - Complexity: O(tokens · (start + tokens) · heads · headDim) time, O(queryTile · group · headDim)
    ///   memory per thread.
    static func run<E: KVElement>(
        _: E.Type, cache: KVCache, layer: Int, start: Int, tokens: Int, heads: Int, window: Int, slidingWindow: Int = Int.max,
        qNear: UnsafePointer<Float>, qFar: UnsafePointer<Float>?, out: UnsafeMutablePointer<Float>,
        threads: Int
    ) {
        let hd = cache.headDim
        let rowBytes = hd * cache.elementType.size
        let kvHeads = cache.kvHeads
        let group = heads / kvHeads
        let scale = 1 / Float(hd).squareRoot()
        let tq = queryTile
        let tk = keyTile
        let tilesPerHead = (tokens + tq - 1) / tq
        let items = kvHeads * tilesPerHead
        // Several interleaved parts per thread, claimed dynamically by the worker pool.
        let parts = threads <= 1 ? 1 : max(1, min(4 * threads, items))
        let useFar = qFar != nil && window != Int.max

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
                let kNear = UnsafeRawPointer(cache.nearKey(layer, kvh))
                let kFar = useFar ? UnsafeRawPointer(cache.farKey(layer, kvh)) : kNear
                let vals = UnsafeRawPointer(cache.value(layer, kvh))
                let lastKey = start + t1 - 1
                // With a sliding window, keys before the earliest row's window are never read.
                let firstKey = slidingWindow == Int.max ? 0 : max(0, start + t0 - slidingWindow + 1)
                var j0 = firstKey / tk * tk
                while j0 <= lastKey {
                    let j1 = min(j0 + tk, lastKey + 1)
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
                        // Keys j ≤ farEnd are at distance ≥ window: far copies.
                        let farEnd = useFar ? i - window : -1
                        var tileMax = -Float.infinity
                        var j = jStart
                        if farEnd >= jStart {
                            let qf = qFar! + qOffset
                            let farStop = min(jEnd, farEnd + 1)
                            while j < farStop {
                                let s = E.dot(qf, kFar + j * rowBytes, hd) * scale
                                scores[j - j0] = s
                                tileMax = max(tileMax, s)
                                j += 1
                            }
                        }
                        while j < jEnd {
                            let s = E.dot(qn, kNear + j * rowBytes, hd) * scale
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
                        var sum: Float = 0
                        for jj in jStart..<jEnd {
                            let e = expf(scores[jj - j0] - newMax)
                            sum += e
                            E.axpy(e, vals + jj * rowBytes, a, hd)
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
            Parallel.forRanges(parts, threads: threads) { s, e in
                for p in s..<e { work(p) }
            }
        }
    }
}
