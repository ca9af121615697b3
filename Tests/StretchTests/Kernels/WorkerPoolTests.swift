import Foundation
import Stretch
import XCTest

final class WorkerPoolTests: XCTestCase {
    /// Polls `condition` until it holds or `timeout` seconds pass.
    private func wait(timeout: TimeInterval = 10, until condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            if Date() > deadline { return false }
            usleep(1000)
        }
        return true
    }

    /// Runs `chunks` chunks on `pool` and returns how often each ran (nil if the pool declined the job).
    private static func counts(_ pool: WorkerPool, chunks: Int) -> [Int]? {
        let hits = UnsafeMutablePointer<Int>.allocate(capacity: max(1, chunks))
        defer { hits.deallocate() }
        hits.initialize(repeating: 0, count: max(1, chunks))
        // Each chunk writes only its own slot, so the body needs no lock.
        let ran = pool.run(chunks: chunks) { c in hits[c] += 1 }
        return ran ? Array(UnsafeBufferPointer(start: hits, count: chunks)) : nil
    }

    func testEveryChunkRunsExactlyOnce() {
        for threads in [1, 2, 3, 5] {
            let pool = WorkerPool(threads: threads)
            XCTAssertEqual(pool.participants, threads)
            for chunks in [0, 1, 2, 3, 7, 64, 1000] {
                for _ in 0..<50 {
                    guard let c = Self.counts(pool, chunks: chunks) else {
                        // Only a pool without worker threads declines (its callers run the loop themselves).
                        XCTAssertEqual(threads, 1)
                        continue
                    }
                    XCTAssertEqual(c, [Int](repeating: 1, count: chunks), "threads \(threads), chunks \(chunks)")
                }
            }
        }
    }

    func testForRangesCoversTheRangeOnce() {
        let pool = WorkerPool(threads: 3)
        for count in [0, 1, 2, 5, 16, 17, 100, 1023] {
            for granularity in [1, 4, 16] {
                var hits = [Int](repeating: 0, count: count)
                hits.withUnsafeMutableBufferPointer { h in
                    Parallel.forRanges(count, workers: pool, granularity: granularity) { s, e in
                        XCTAssertEqual(s % granularity, 0)
                        for i in s..<e { h[i] += 1 }
                    }
                }
                XCTAssertEqual(hits, [Int](repeating: 1, count: count), "count \(count), granularity \(granularity)")
            }
        }
    }

    /// Sum of squares over `0..<n` through `Parallel.forRanges`, each range writing its own slot.
    private static func sumOfSquares(_ n: Int, _ pool: WorkerPool) -> Int {
        var partial = [Int](repeating: 0, count: n)
        partial.withUnsafeMutableBufferPointer { p in
            Parallel.forRanges(n, workers: pool) { s, e in
                for i in s..<e { p[i] = i * i }
            }
        }
        return partial.reduce(0, +)
    }

    func testTwoCallersOnOnePoolBothGetCompleteResults() {
        let pool = WorkerPool(threads: 2)
        let n = 5000
        let expected = (0..<n).reduce(0) { $0 + $1 * $1 }
        let failures = Failures()
        let group = DispatchGroup()
        let start = DispatchSemaphore(value: 0)
        for _ in 0..<2 {
            group.enter()
            Thread {
                start.wait()  // both callers begin together
                for round in 0..<2000 {
                    let chunks = 1 + round % 40
                    let ok: Bool
                    if round % 2 == 0 {
                        ok = Self.sumOfSquares(n, pool) == expected
                    } else if let c = Self.counts(pool, chunks: chunks) {
                        ok = c == [Int](repeating: 1, count: chunks)
                    } else {
                        ok = true  // declined while the other caller held the pool: nothing ran, nothing to check
                    }
                    if !ok { failures.add() }
                }
                group.leave()
            }.start()
        }
        start.signal()
        start.signal()
        XCTAssertEqual(group.wait(timeout: .now() + 120), .success)
        XCTAssertEqual(failures.count, 0)
    }

    func testNestedLoopsInsideChunksCoverEveryCellOnce() {
        // A loop nested in a chunk finds the pool busy with its own outer job: `run` declines it and
        // `Parallel` runs it on Dispatch instead. Every (outer, inner) cell must still run exactly once.
        let pool = WorkerPool(threads: 3)
        let outer = 24, inner = 37
        for _ in 0..<200 {
            var hits = [Int](repeating: 0, count: outer * inner)
            var declined = [Bool](repeating: false, count: outer)
            hits.withUnsafeMutableBufferPointer { h in
                declined.withUnsafeMutableBufferPointer { d in
                    Parallel.forRanges(outer, workers: pool) { s, e in
                        for o in s..<e {
                            d[o] = !pool.run(chunks: 1) { _ in }
                            Parallel.forRanges(inner, workers: pool) { si, ei in
                                for i in si..<ei { h[o * inner + i] += 1 }
                            }
                        }
                    }
                }
            }
            XCTAssertEqual(hits, [Int](repeating: 1, count: outer * inner))
            XCTAssertEqual(declined, [Bool](repeating: true, count: outer), "a nested run took the busy pool")
        }
        // The pool is free again afterwards.
        XCTAssertEqual(Self.counts(pool, chunks: 5), [1, 1, 1, 1, 1])
    }

    func testManyShortJobsFromManyThreads() {
        // Four callers, thousands of one-to-three-chunk jobs each: every job either runs completely or is
        // declined, and the pool never loses a chunk or hangs.
        let pool = WorkerPool(threads: 3)
        let failures = Failures()
        let group = DispatchGroup()
        for t in 0..<4 {
            group.enter()
            Thread {
                for round in 0..<5000 {
                    let chunks = 1 + (round + t) % 3
                    if let c = Self.counts(pool, chunks: chunks), c != [Int](repeating: 1, count: chunks) {
                        failures.add()
                    }
                }
                group.leave()
            }.start()
        }
        XCTAssertEqual(group.wait(timeout: .now() + 120), .success)
        XCTAssertEqual(failures.count, 0)
    }

    func testShutdownEndsTheThreadsAndIsIdempotent() {
        let pool = WorkerPool(threads: 4)
        XCTAssertEqual(pool.liveThreads, 3)
        XCTAssertEqual(Self.counts(pool, chunks: 10), [Int](repeating: 1, count: 10))
        pool.shutdown()
        XCTAssertTrue(wait { pool.liveThreads == 0 }, "\(pool.liveThreads) worker threads still alive")
        pool.shutdown()
        XCTAssertEqual(pool.liveThreads, 0)
        // After shutdown the caller runs every chunk itself.
        for chunks in [0, 1, 9, 100] {
            XCTAssertEqual(Self.counts(pool, chunks: chunks), [Int](repeating: 1, count: chunks))
        }
        XCTAssertEqual(Self.sumOfSquares(1000, pool), (0..<1000).reduce(0) { $0 + $1 * $1 })
    }

    func testShutdownWakesSleepingWorkers() {
        let pool = WorkerPool(threads: 3)
        _ = Self.counts(pool, chunks: 6)
        usleep(200_000)  // long past the spin limit: the workers sleep on the condition
        pool.shutdown()
        XCTAssertTrue(wait { pool.liveThreads == 0 })
    }

    func testReleasedPoolIsDeinitializedAndItsThreadsEnd() {
        weak var weakPool: WorkerPool?
        var counter: WorkerPool.ThreadCount?
        do {
            let pool = WorkerPool(threads: 3)
            weakPool = pool
            counter = pool.threadCount  // outlives the pool; the workers hold it too
            XCTAssertEqual(pool.liveThreads, 2)
            XCTAssertEqual(Self.sumOfSquares(100, pool), (0..<100).reduce(0) { $0 + $1 * $1 })
        }
        XCTAssertNil(weakPool, "the pool outlived its last reference")
        XCTAssertTrue(wait { counter!.value == 0 }, "\(counter!.value) worker threads still alive")
    }
}

/// A failure counter shared by the threads of a test.
// @unchecked: `value` is read and written only under `lock`.
private final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    var count: Int { lock.withLock { value } }

    func add() { lock.withLock { value += 1 } }
}
