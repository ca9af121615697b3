import Foundation
import Synchronization

/// A fixed set of threads, created once, that share the chunks of one parallel loop at a time.
///
/// Decode issues ~170 small matrix products per token; `DispatchQueue.concurrentPerform` wakes and
/// parks its threads for each of them. Here workers spin on a generation counter for a while after a
/// job (the next product usually arrives within microseconds), then sleep on a condition.
///
/// Chunks are claimed from an atomic counter by the caller and the workers alike, so the caller never
/// waits for a worker that the OS has not scheduled (the machine is shared with compilers and other
/// processes): it takes the remaining chunks itself and only waits for chunks already in flight.
@available(macOS 15, *)
final class WorkerPool: @unchecked Sendable {
    /// Threads that take part in a job, the caller included.
    let participants: Int

    /// One parallel loop: its body, its chunk count, and its own counters, so a worker that wakes late
    /// can never claim chunks of a different job.
    private final class Job {
        let body: (Int) -> Void
        let chunks: Int
        let claimed = Atomic<Int>(0)
        let finished = Atomic<Int>(0)

        init(body: @escaping (Int) -> Void, chunks: Int) {
            self.body = body
            self.chunks = chunks
        }

        /// Claims and runs chunks until none are left.
        func drain() {
            while true {
                let c = claimed.wrappingAdd(1, ordering: .sequentiallyConsistent).oldValue
                if c >= chunks { return }
                body(c)
                finished.add(1, ordering: .sequentiallyConsistent)
            }
        }
    }

    /// Bumped once per job; workers wait for it to change.
    private let generation = Atomic<Int>(0)
    /// Workers holding a reference to the current job. The caller waits for zero after withdrawing the
    /// job, so the (non-escaping) body is never referenced after `run` returns.
    private let holders = Atomic<Int>(0)
    /// Workers blocked on `condition` (so `run` knows whether it must signal).
    private let sleepers = Atomic<Int>(0)
    private let condition = NSCondition()
    /// Held by the thread running a job; a second caller (another model, or a nested loop) falls back.
    private let busy = NSLock()
    /// Guards `slot`: workers take the job (and count themselves in `holders`) under it.
    private let slotLock = NSLock()
    private nonisolated(unsafe) var slot: Job?

    /// Polls of the generation counter before a worker sleeps (tens of µs): long enough to bridge the
    /// serial work between two matrix products, short enough not to steal a core when the model is idle.
    static let spinLimit = 20_000

    /// Starts `threads - 1` worker threads.
    init(threads: Int) {
        participants = max(1, threads)
        for _ in 1..<participants {
            let thread = Thread { [self] in workerLoop() }
            thread.name = "stretch-worker"
            thread.start()
        }
    }

    /// Runs `body(c)` for every chunk `c` in `0..<chunks`, spread over the pool; returns when all
    /// have finished. Returns `false` without running anything if the pool is busy.
    func run(chunks: Int, _ body: (Int) -> Void) -> Bool {
        guard busy.try() else { return false }
        defer { busy.unlock() }
        withoutActuallyEscaping(body) { escaping in
            var job: Job? = Job(body: escaping, chunks: chunks)
            slotLock.lock()
            slot = job
            slotLock.unlock()
            generation.add(1, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                condition.lock()
                condition.broadcast()
                condition.unlock()
            }
            job!.drain()
            var spins = 0
            while job!.finished.load(ordering: .sequentiallyConsistent) < chunks {
                spins += 1
                if spins > 1000 { sched_yield() }
            }
            // Withdraw the job, then wait until no worker still holds it.
            slotLock.lock()
            slot = nil
            slotLock.unlock()
            job = nil
            while holders.load(ordering: .sequentiallyConsistent) > 0 { sched_yield() }
        }
        return true
    }

    private func workerLoop() {
        var seen = 0
        while true {
            var spins = 0
            while generation.load(ordering: .sequentiallyConsistent) == seen {
                spins += 1
                if spins < Self.spinLimit { continue }
                condition.lock()
                sleepers.add(1, ordering: .sequentiallyConsistent)
                while generation.load(ordering: .sequentiallyConsistent) == seen { condition.wait() }
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                condition.unlock()
                spins = 0
            }
            seen = generation.load(ordering: .sequentiallyConsistent)
            var taken: Job?
            slotLock.lock()
            taken = slot
            if taken != nil { holders.add(1, ordering: .sequentiallyConsistent) }
            slotLock.unlock()
            if taken != nil {
                taken!.drain()
                taken = nil  // release before announcing that we let go
                holders.subtract(1, ordering: .sequentiallyConsistent)
            }
        }
    }

    private static let poolsLock = NSLock()
    private nonisolated(unsafe) static var pools: [Int: WorkerPool] = [:]

    /// The process-wide pool with `threads` participants (created on first use, never torn down).
    static func shared(threads: Int) -> WorkerPool {
        poolsLock.lock()
        defer { poolsLock.unlock() }
        if let pool = pools[threads] { return pool }
        let pool = WorkerPool(threads: threads)
        pools[threads] = pool
        return pool
    }
}
