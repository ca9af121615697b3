import Dispatch
import Foundation

/// Splits work across threads. A thin layer so the threading strategy can change in one place.
///
/// Loops run on a persistent ``WorkerPool`` (see docs/DESIGN.md, "Threads", for the measurements
/// against `DispatchQueue.concurrentPerform`, which stays as the fallback when the pool is busy).
public enum Parallel {
    /// `false` routes every loop through `DispatchQueue.concurrentPerform` (for A/B measurements; the
    /// environment variable `STRETCH_WORKER_POOL=0` sets it for a whole run).
    public nonisolated(unsafe) static var usesWorkerPool: Bool = {
        if let v = getenv("STRETCH_WORKER_POOL"), String(cString: v) == "0" { return false }
        return true
    }()

    /// Runs `body(start, end)` over `0..<count` split into about `threads` contiguous ranges.
    ///
    /// Ranges are rounded to multiples of `granularity` so row blocks stay whole. On the worker pool the
    /// range is cut into up to four chunks per thread, claimed dynamically (balances a busy machine).
    @inline(__always)
    public static func forRanges(
        _ count: Int, threads: Int, granularity: Int = 1, _ body: (Int, Int) -> Void
    ) {
        if count <= 0 { return }
        let units = (count + granularity - 1) / granularity
        if threads <= 1 || units == 1 {
            body(0, count)
            return
        }
        if usesWorkerPool, #available(macOS 15, *) {
            let parts = min(units, 4 * threads)
            let done = WorkerPool.shared(threads: threads).run(chunks: parts) { p in
                let s = min(count, units * p / parts * granularity)
                let e = min(count, units * (p + 1) / parts * granularity)
                if s < e { body(s, e) }
            }
            if done { return }
        }
        let parts = min(threads, units)
        DispatchQueue.concurrentPerform(iterations: parts) { p in
            let s = min(count, units * p / parts * granularity)
            let e = min(count, units * (p + 1) / parts * granularity)
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
