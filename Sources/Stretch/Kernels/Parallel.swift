import Dispatch

/// Splits work across threads. A thin layer so the threading strategy can change in one place.
public enum Parallel {
    /// Runs `body(start, end)` over `0..<count` split into about `threads` contiguous ranges.
    ///
    /// Ranges are rounded to multiples of `granularity` so row blocks stay whole.
    @inline(__always)
    public static func forRanges(
        _ count: Int, threads: Int, granularity: Int = 1, _ body: (Int, Int) -> Void
    ) {
        if count <= 0 { return }
        let units = (count + granularity - 1) / granularity
        let parts = max(1, min(threads, units))
        if parts == 1 {
            body(0, count)
            return
        }
        DispatchQueue.concurrentPerform(iterations: parts) { p in
            let u0 = units * p / parts
            let u1 = units * (p + 1) / parts
            let s = min(count, u0 * granularity)
            let e = min(count, u1 * granularity)
            if s < e { body(s, e) }
        }
    }

    /// Runs `body(i)` for every `i` in `0..<count`, dynamically load balanced over `threads` workers.
    public static func forEach(_ count: Int, threads: Int, _ body: (Int) -> Void) {
        if count <= 0 { return }
        if threads <= 1 || count == 1 {
            for i in 0..<count { body(i) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: count) { i in body(i) }
    }
}
