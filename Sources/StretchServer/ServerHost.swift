import Foundation
import Stretch
import Synchronization

/// What the server is before and after its model loads: it listens at once (health says 503 "Loading
/// model" meanwhile), then holds the loaded ``ServerState``; it also knows whether it is shutting down
/// and which generations are in flight.
final class ServerHost: Sendable {
    let configuration: ServerConfiguration
    let metrics = ServerMetrics()
    private let loaded = Mutex<ServerState?>(nil)
    private let draining = Atomic<Bool>(false)
    private let runs = Mutex<[ObjectIdentifier: GenerationRun]>([:])

    init(configuration: ServerConfiguration) {
        self.configuration = configuration
    }

    /// The loaded model's state, nil while loading.
    var state: ServerState? { loaded.withLock { $0 } }

    /// Installs the loaded model (requests are served from now on).
    func finishLoading(_ state: ServerState) { loaded.withLock { $0 = state } }

    /// Whether the server is shutting down (health answers 503).
    var isDraining: Bool { draining.load(ordering: .relaxed) }

    /// Marks the server as shutting down and cancels every generation in flight.
    func drain() {
        draining.store(true, ordering: .relaxed)
        for run in runs.withLock({ Array($0.values) }) { run.cancel(.shutdown) }
    }

    /// Registers a generation in flight, so that shutting down can cancel it.
    func track(_ run: GenerationRun) {
        runs.withLock { $0[ObjectIdentifier(run)] = run }
        if isDraining { run.cancel(.shutdown) }
    }

    /// Forgets a generation that ended.
    func untrack(_ run: GenerationRun) { _ = runs.withLock { $0.removeValue(forKey: ObjectIdentifier(run)) } }
}
