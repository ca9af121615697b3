import Synchronization

/// Set once by whoever stops listening to a generation; read by the engine between tokens.
final class CancellationFlag: Sendable {
    private let state = Atomic<Bool>(false)

    /// Asks the generation to stop.
    func cancel() { state.store(true, ordering: .relaxed) }

    /// Whether it was asked to stop.
    var isCancelled: Bool { state.load(ordering: .relaxed) }
}
