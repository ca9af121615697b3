import Dispatch
import Foundation
import Synchronization

/// A fixed set of threads, owned by whoever creates the pool (a model), that share the chunks of one
/// parallel loop at a time.
///
/// Decode issues ~170 small matrix products per token; `DispatchQueue.concurrentPerform` wakes and
/// parks its threads for each of them. Here workers spin on a generation counter for a while after a
/// job (the next product usually arrives within microseconds), then sleep on a condition.
///
/// Chunks are claimed from an atomic counter by the caller and the workers alike, so the caller never
/// waits for a worker that the OS has not scheduled (the machine is shared with compilers and other
/// processes): it takes the remaining chunks itself and only waits for chunks already in flight.
///
/// The worker threads reference only the pool's inner state, never the pool, so dropping the last
/// reference to the pool runs `deinit`, which shuts the threads down.
package final class WorkerPool: Sendable {
    /// Threads that take part in a job, the caller included.
    package let participants: Int

    /// Worker threads that have not ended yet (the caller is not counted).
    package var liveThreads: Int { threadCount.value }
    /// The live-thread counter itself; the worker threads hold it, not the pool, so it can be read
    /// after the pool is gone.
    package let threadCount: ThreadCount

    /// The shared state the workers run on; nil with one participant, or where `Atomic` is missing
    /// (macOS < 15), in which case `run` falls back to the caller (see ``Parallel``).
    private let state: (any AnyObject & Sendable)?

    /// Starts `threads - 1` worker threads (none for `threads <= 1`).
    package init(threads: Int) {
        participants = max(1, threads)
        threadCount = ThreadCount()
        if participants > 1, #available(macOS 15, *) {
            let state = PoolState(threadCount: threadCount)
            threadCount.add(participants - 1)
            for _ in 1..<participants {
                state.exited.enter()
                let thread = Thread { [state] in state.workerLoop() }
                thread.name = "stretch-worker"
                thread.start()
            }
            self.state = state
        } else {
            state = nil
        }
    }

    deinit {
        shutdown()
    }

    /// Wakes every worker thread, lets it end, and waits until all have. Idempotent. A job in progress
    /// on another thread finishes first; afterwards ``run(chunks:_:)`` runs every chunk on its caller.
    package func shutdown() {
        if #available(macOS 15, *), let state {
            unsafeDowncast(state, to: PoolState.self).shutdown()
        }
    }

    /// Runs `body(c)` for every chunk `c` in `0..<chunks`, spread over the pool; returns when all
    /// have finished. Returns `false` without running anything if the pool is busy with another job
    /// (another caller, or a loop nested in a chunk), or has no worker threads at all.
    package func run(chunks: Int, _ body: (Int) -> Void) -> Bool {
        if #available(macOS 15, *), let state {
            return unsafeDowncast(state, to: PoolState.self).run(chunks: chunks, body)
        }
        return false
    }
}

extension WorkerPool {
    /// Counts live worker threads. Lock-based rather than `Atomic`, so it exists on every platform (it
    /// is touched once per thread start and end, never on a hot path).
    // @unchecked: `count` is read and written only under `lock`.
    package final class ThreadCount: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0

        /// Worker threads started and not yet ended.
        package var value: Int { lock.withLock { count } }

        func add(_ n: Int) { lock.withLock { count += n } }
    }
}

/// What the worker threads share with the pool: the job slot, counters and the condition they sleep on.
// @unchecked: `slot` is read and written only under `slotLock`, `stopped` only under `busy`; everything
// else is an atomic, a lock or immutable.
@available(macOS 15, *)
private final class PoolState: @unchecked Sendable {
    /// One parallel loop: its body, its chunk count, and its own counters, so a worker that wakes late
    /// can never claim chunks of a different job.
    final class Job {
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

    /// Bumped once per job (and once by `shutdown`); workers wait for it to change.
    let generation = Atomic<Int>(0)
    /// Set by `shutdown`; a worker that sees a new generation with this set ends.
    let stopping = Atomic<Bool>(false)
    /// Workers holding a reference to the current job. The caller waits for zero after withdrawing the
    /// job, so the (non-escaping) body is never referenced after `run` returns.
    let holders = Atomic<Int>(0)
    /// Workers blocked on `condition` (so `run` knows whether it must signal).
    let sleepers = Atomic<Int>(0)
    let condition = NSCondition()
    /// Held by the thread running a job; a second caller (another thread, or a nested loop) falls back.
    let busy = NSLock()
    /// Guards `slot`: workers take the job (and count themselves in `holders`) under it.
    let slotLock = NSLock()
    var slot: Job?
    /// Under `busy`: after shutdown, jobs run on the caller.
    var stopped = false
    /// Left by each worker thread as it ends; `shutdown` waits for it.
    let exited = DispatchGroup()
    let threadCount: WorkerPool.ThreadCount

    /// Polls of the generation counter before a worker sleeps (tens of µs): long enough to bridge the
    /// serial work between two matrix products, short enough not to steal a core when the model is idle.
    static let spinLimit = 20_000

    init(threadCount: WorkerPool.ThreadCount) {
        self.threadCount = threadCount
    }

    func run(chunks: Int, _ body: (Int) -> Void) -> Bool {
        guard busy.try() else { return false }
        defer { busy.unlock() }
        if stopped {
            for c in 0..<chunks { body(c) }
            return true
        }
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

    func shutdown() {
        busy.lock()  // waits for a job in progress
        defer { busy.unlock() }
        if stopped { return }
        stopped = true
        stopping.store(true, ordering: .sequentiallyConsistent)
        // Under the condition's lock, so a worker between its generation check and `wait` cannot miss it.
        condition.lock()
        generation.add(1, ordering: .sequentiallyConsistent)
        condition.broadcast()
        condition.unlock()
        exited.wait()
    }

    func workerLoop() {
        defer {
            threadCount.add(-1)
            exited.leave()
        }
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
            if stopping.load(ordering: .sequentiallyConsistent) { return }
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
}
