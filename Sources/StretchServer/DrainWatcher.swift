import ServiceLifecycle

/// On SIGTERM/SIGINT: health turns 503 and every generation in flight is cancelled, so the server's
/// graceful shutdown ends within a token instead of waiting for long replies.
struct DrainWatcher: Service {
    let host: ServerHost

    func run() async throws {
        try? await gracefulShutdown()
        host.drain()
    }
}
