import Foundation

/// Causal attention with positions as an input: near keys for `d < W`, far keys otherwise.
///
/// Each (query, head) row computes its logits into a per-thread buffer of length `i + 1` (never an
/// N×N matrix), takes one ordinary softmax and the weighted sum of values. That is the naive
/// definition of SELF_EXTEND.md §2 evaluated row by row, so it is exact for prefill, chunked prefill
/// and decode alike.
public enum ExactAttention {
    /// Attention for `tokens` new queries at positions `start ..< start + tokens`.
    ///
    /// - Parameters:
    ///   - qNear: `[tokens][heads][headDim]` queries rotated at true positions.
    ///   - qFar: same, rotated at far query positions (unused when `window == Int.max`).
    ///   - out: `[tokens][heads][headDim]`.
    /// - Complexity: O(tokens · (start + tokens) · heads · headDim) time, O(start + tokens) memory per thread.
    static func run(
        cache: KVCache, layer: Int, start: Int, tokens: Int, heads: Int, window: Int,
        qNear: UnsafePointer<Float>, qFar: UnsafePointer<Float>?, out: UnsafeMutablePointer<Float>,
        threads: Int
    ) {
        let hd = cache.headDim
        let group = heads / cache.kvHeads
        let scale = 1 / Float(hd).squareRoot()
        let items = tokens * heads
        let total = start + tokens
        let parts = max(1, min(threads, items))
        // Interleaved assignment balances the causal triangle (later rows are longer).
        let work: (Int) -> Void = { p in
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: total)
            defer { scores.deallocate() }
            var item = p
            while item < items {
                let t = item / heads
                let h = item % heads
                let kvh = h / group
                let i = start + t
                let qn = qNear + (t * heads + h) * hd
                let kn = UnsafePointer(cache.nearKey(layer, kvh))
                let vv = UnsafePointer(cache.value(layer, kvh))
                // Keys j ≤ farEnd are far (d ≥ W); the rest are near.
                let farEnd = window == Int.max ? -1 : i - window
                if farEnd >= 0, let qFar {
                    let qf = qFar + (t * heads + h) * hd
                    let kf = UnsafePointer(cache.farKey(layer, kvh))
                    for j in 0...farEnd { scores[j] = VectorOps.dot(qf, kf + j * hd, hd) * scale }
                }
                var maxScore = -Float.infinity
                for j in max(0, farEnd + 1)...i { scores[j] = VectorOps.dot(qn, kn + j * hd, hd) * scale }
                for j in 0...i { maxScore = max(maxScore, scores[j]) }
                var sum: Float = 0
                for j in 0...i {
                    let e = expf(scores[j] - maxScore)
                    scores[j] = e
                    sum += e
                }
                let o = out + (t * heads + h) * hd
                o.initialize(repeating: 0, count: hd)
                let inv = 1 / sum
                for j in 0...i { VectorOps.axpy(scores[j] * inv, vv + j * hd, o, hd) }
                item += parts
            }
        }
        if parts == 1 {
            work(0)
        } else {
            DispatchQueue.concurrentPerform(iterations: parts, execute: work)
        }
    }
}
