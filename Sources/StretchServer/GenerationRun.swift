import Foundation
import Stretch
import Synchronization

/// Whether anyone stopped a generation before its end (counted once, as a cancelled request).
private final class StopMark: Sendable {
    private let state = Atomic<Bool>(false)
    func set() { state.store(true, ordering: .relaxed) }
    var isSet: Bool { state.load(ordering: .relaxed) }
}

/// One generation on a leased slot: its events, a way to stop it, and the slot's release once the
/// session is idle again (after the last token, or within one token of a cancel).
final class GenerationRun: Sendable {
    /// The session's events.
    let events: AsyncThrowingStream<GenerationEvent, Error>
    private let pump: Task<Void, Never>
    private let stopped: StopMark

    init(lease: SlotPool.Lease, state: ServerState, prompt: [Int], parameters: GenerationParameters, timeout: Double) {
        let inner = lease.session.generate(prompt: prompt, parameters: parameters)
        let (events, continuation) = AsyncThrowingStream<GenerationEvent, Error>.makeStream()
        self.events = events
        let session = lease.session
        let pool = state.pool
        let stopped = StopMark()
        self.stopped = stopped
        // Cancelling this task cancels the iteration of `inner`, which sets the session's cancel flag.
        let pump = Task {
            do {
                for try await event in inner { continuation.yield(event) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
            await session.waitUntilIdle()
            await pool.release(lease.slot)
            if stopped.isSet { state.metrics.cancelled() }
        }
        self.pump = pump
        continuation.onTermination = { termination in
            if case .cancelled = termination {
                stopped.set()
                pump.cancel()
            }
        }
        let deadline = Task {
            try? await Task.sleep(nanoseconds: UInt64(max(0, timeout) * 1e9))
            if !Task.isCancelled {
                stopped.set()
                pump.cancel()
            }
        }
        state.track(self)
        Task { [self] in
            await pump.value
            deadline.cancel()
            state.untrack(self)
        }
    }

    /// Returns once the generation ended and its slot is free again (so that a client's next request,
    /// sent as soon as this answer arrives, finds the slot idle).
    func released() async { await pump.value }

    /// Stops the generation (a disconnect, a shutdown); the slot is released once the session has stopped.
    func cancel() {
        stopped.set()
        pump.cancel()
    }
}
