import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Stretch

/// Builds the HTTP application serving `model` (the endpoints, the slots, the metrics) and the service
/// that, on shutdown, cancels generations in flight. Used by ``serve(model:configuration:onListening:)``.
///
/// - Parameter onListening: called with the bound port once the server accepts connections.
public func buildApplication(
    model: LanguageModel, configuration: ServerConfiguration,
    onListening: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> (application: some ApplicationProtocol, drain: some Service) {
    let state = try ServerState(model: model, configuration: configuration)
    let application = Application(
        responder: ServerResponder(state: state),
        server: .http1(configuration: .init(additionalChannelHandlers: [ClientGoneHandler()])),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "stretch"),
        onServerRunning: { channel in await onListening(channel.localAddress?.port ?? configuration.port) },
        logger: serverLogger)
    return (application, DrainWatcher(state: state))
}

/// Serves `model` until SIGTERM or SIGINT: then health turns 503, no connection is accepted, generations
/// in flight are cancelled (within a token), and it returns.
public func serve(
    model: LanguageModel, configuration: ServerConfiguration,
    onListening: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws {
    let (application, drain) = try buildApplication(
        model: model, configuration: configuration, onListening: onListening)
    // Services shut down in reverse order: the drain first (cancelling generations), then the server,
    // which waits for the requests still open.
    let group = ServiceGroup(
        services: [application, drain], gracefulShutdownSignals: [.sigterm, .sigint], logger: serverLogger)
    try await group.run()
}

private let serverLogger: Logger = {
    var logger = Logger(label: "stretch.server")
    logger.logLevel = .warning
    return logger
}()
