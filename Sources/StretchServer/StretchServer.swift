import Foundation
import Hummingbird
import Logging
import NIOCore
import Stretch

/// Builds the HTTP application serving `model`: the endpoints, the slots and the metrics. Used by
/// `stretch serve` and by tests.
///
/// - Parameter onListening: called with the bound port once the server accepts connections.
public func buildApplication(
    model: LanguageModel, configuration: ServerConfiguration, onListening: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let state = try ServerState(model: model, configuration: configuration)
    var logger = Logger(label: "stretch.server")
    logger.logLevel = .warning
    return Application(
        responder: ServerResponder(state: state),
        server: .http1(configuration: .init(additionalChannelHandlers: [ClientGoneHandler()])),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "stretch"),
        services: [DrainWatcher(state: state)],
        onServerRunning: { channel in await onListening(channel.localAddress?.port ?? configuration.port) },
        logger: logger)
}
