import Foundation
import Stretch
import Synchronization

/// One generation submitted to the engine: its admission (a slot, or the error that refused it), its
/// events, and a way to stop it (a disconnect, a timeout, a shutdown) that frees the slot within one
/// engine step.
final class GenerationRun: Sendable {
    /// Why a run was stopped from outside.
    enum Stop: Int, Sendable {
        case none, disconnected, timedOut, shutdown
        /// The generation ended by itself first (a later disconnect changes nothing).
        case completed
    }

    /// The engine's events after the slot assignment.
    let events: AsyncThrowingStream<GenerationEvent, Error>
    private let admission: AsyncThrowingStream<Int, Error>
    private let pump: Task<Void, Never>
    private let stop = StopFlag()
    private let timeout: Double

    init(
        state: ServerState, prompt: [Int], parameters: GenerationParameters, positions: PositionMap,
        reusePrefix: Bool, timeout: Double
    ) {
        self.timeout = timeout
        let inner = state.engine.submit(
            prompt: prompt, parameters: parameters, positions: positions, reusePrefix: reusePrefix)
        let (events, continuation) = AsyncThrowingStream<GenerationEvent, Error>.makeStream()
        let (admission, admit) = AsyncThrowingStream<Int, Error>.makeStream()
        self.events = events
        self.admission = admission
        let stop = self.stop
        // Cancelling this task ends the iteration of `inner`, which cancels the request in the engine.
        pump = Task {
            do {
                for try await event in inner {
                    if case .assigned(let slot) = event {
                        admit.yield(slot)
                        admit.finish()
                    } else {
                        continuation.yield(event)
                    }
                }
                admit.finish()
                stop.set(.completed)
                continuation.finish()
            } catch {
                stop.set(.completed)
                admit.finish(throwing: error)
                continuation.finish(throwing: error)
            }
        }
        let pump = self.pump
        continuation.onTermination = { termination in
            if case .cancelled = termination {
                stop.set(.disconnected)
                pump.cancel()
            }
        }
        let deadline = Task { [weak self] in
            try? await Task.sleep(nanoseconds: UInt64(max(0, timeout) * 1e9))
            if !Task.isCancelled { self?.cancel(.timedOut) }
        }
        let host = state.host
        host.track(self)
        Task { [self] in
            await pump.value
            deadline.cancel()
            if self.stopReason != .completed { host.metrics.cancelled() }
            host.untrack(self)
        }
    }

    /// Why the run was stopped from outside (`.completed` if it ended by itself first).
    var stopReason: Stop { stop.value }

    /// Waits for a slot and returns its index; throws what refused the request (a full queue, a
    /// timeout while queued, a prompt the engine rejected, a disconnect).
    func admitted() async throws -> Int {
        for try await slot in admission { return slot }
        switch stopReason {
        case .timedOut: throw APIError.unavailable("no slot became free within \(Int(timeout)) s", retryAfter: 1)
        case .shutdown: throw APIError.unavailable("the server is shutting down")
        default: throw CancellationError()
        }
    }

    /// Returns once the generation's events have all been delivered.
    func released() async { await pump.value }

    /// Stops the generation; the engine frees its slot within one step.
    func cancel(_ reason: Stop = .disconnected) {
        stop.set(reason)
        pump.cancel()
    }
}

/// The first reason a run was stopped for.
private final class StopFlag: Sendable {
    private let state = Atomic<Int>(GenerationRun.Stop.none.rawValue)

    func set(_ reason: GenerationRun.Stop) {
        _ = state.compareExchange(expected: GenerationRun.Stop.none.rawValue, desired: reason.rawValue, ordering: .relaxed)
    }

    var value: GenerationRun.Stop { GenerationRun.Stop(rawValue: state.load(ordering: .relaxed)) ?? .none }
}
