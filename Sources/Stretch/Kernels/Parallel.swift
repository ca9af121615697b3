import Dispatch
import Foundation

/// Splits work across threads. A thin layer so the threading strategy can change in one place.
///
/// Loops run on the caller's ``WorkerPool`` (see docs/DESIGN.md, "Threads", for the measurements
/// against `DispatchQueue.concurrentPerform`, which stays as the fallback when the pool is busy).
package enum Parallel {
    /// `false` routes every loop through `DispatchQueue.concurrentPerform` (for A/B measurements),
    /// read once from the environment: `STRETCH_WORKER_POOL=0`.
    package static let usesWorkerPool: Bool = {
        if let v = getenv("STRETCH_WORKER_POOL"), String(cString: v) == "0" { return false }
        return true
    }()

    /// Runs `body(start, end)` over `0..<count` split into about `workers.participants` contiguous ranges.
    ///
    /// Ranges are rounded to multiples of `granularity` so row blocks stay whole. On the worker pool the
    /// range is cut into up to four chunks per thread, claimed dynamically (balances a busy machine).
    /// Ranges never overlap, so a body that writes only its own range needs no synchronization.
    @inline(__always)
    package static func forRanges(
        _ count: Int, workers: WorkerPool, granularity: Int = 1, _ body: (Int, Int) -> Void
    ) {
        if count <= 0 { return }
        let threads = workers.participants
        let units = (count + granularity - 1) / granularity
        if threads <= 1 || units == 1 {
            body(0, count)
            return
        }
        if usesWorkerPool {
            let parts = min(units, 4 * threads)
            let done = workers.run(chunks: parts) { p in
                let s = min(count, units * p / parts * granularity)
                let e = min(count, units * (p + 1) / parts * granularity)
                if s < e { body(s, e) }
            }
            if done { return }
        }
        let parts = min(threads, units)
        withoutActuallyEscaping(body) { body in
            let body = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: parts) { p in
                let s = min(count, units * p / parts * granularity)
                let e = min(count, units * (p + 1) / parts * granularity)
                if s < e { body.value(s, e) }
            }
        }
    }
}

/// Lets `DispatchQueue.concurrentPerform` (whose closure is `@Sendable`) call a loop body that is not.
// @unchecked: `forRanges` wraps only its own non-escaping body, `concurrentPerform` returns before that
// body's lifetime ends, and the body is called on disjoint ranges (callers write only their own range).
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value

    init(_ value: Value) { self.value = value }
}
