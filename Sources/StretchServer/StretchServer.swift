import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Stretch

/// Serves the model that `load` returns until SIGTERM or SIGINT.
///
/// The server listens first (`onListening` gets the bound port; `/health` answers 503 "Loading model"),
/// then loads the model on a thread of its own, then serves (`onLoaded`). On a signal, health turns 503,
/// no connection is accepted, generations in flight are cancelled (within a token), and it returns. A
/// model that fails to load ends the server with that error.
public func serve(
    configuration: ServerConfiguration, load: @escaping @Sendable () throws -> LanguageModel,
    onListening: @escaping @Sendable (Int) async -> Void = { _ in },
    onLoaded: @escaping @Sendable (LanguageModel) async -> Void = { _ in }
) async throws {
    let host = ServerHost(configuration: configuration)
    // The model loads once the port is open, so that /health can say "Loading model" meanwhile.
    let (listening, opened) = AsyncStream<Void>.makeStream()
    let application = Application(
        responder: ServerResponder(host: host),
        server: .http1(configuration: .init(additionalChannelHandlers: [ClientGoneHandler()])),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "stretch"),
        onServerRunning: { channel in
            await onListening(channel.localAddress?.port ?? configuration.port)
            opened.finish()
        },
        logger: serverLogger)
    let loader = ModelLoader(host: host, listening: listening, load: load, onLoaded: onLoaded)
    // Services shut down in reverse order: the drain first (cancelling generations), then the loader,
    // then the server, which waits for the requests still open.
    let group = ServiceGroup(
        configuration: .init(
            services: [
                .init(service: application),
                .init(service: loader, successTerminationBehavior: .ignore),
                .init(service: DrainWatcher(host: host)),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: serverLogger))
    try await group.run()
}

/// Serves an already loaded model (see ``serve(configuration:load:onListening:onLoaded:)``).
public func serve(
    model: LanguageModel, configuration: ServerConfiguration,
    onListening: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws {
    try await serve(configuration: configuration, load: { model }, onListening: onListening)
}

/// Loads the model off Swift's cooperative pool (reading and checking a GGUF blocks), then installs it.
private struct ModelLoader: Service {
    let host: ServerHost
    let listening: AsyncStream<Void>
    let load: @Sendable () throws -> LanguageModel
    let onLoaded: @Sendable (LanguageModel) async -> Void

    func run() async throws {
        for await _ in listening {}
        guard !Task.isCancelled else { return }
        let load = self.load
        let host = self.host
        let model: LanguageModel = try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try load() })
            }
            thread.name = "stretch.load"
            thread.start()
        }
        host.finishLoading(try ServerState(model: model, host: host))
        await onLoaded(model)
    }
}

private let serverLogger: Logger = {
    var logger = Logger(label: "stretch.server")
    logger.logLevel = .warning
    return logger
}()
