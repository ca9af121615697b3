import Foundation
import Stretch

/// What every generation shares once the model is loaded: the model, the batching engine (the slots
/// and their queue), and what the chat endpoint adds to each request.
final class ServerState: Sendable {
    let host: ServerHost
    let model: LanguageModel
    /// Every slot, decoded together in one batched forward per step.
    let engine: BatchEngine
    /// The model's id in responses: the alias, else the file name.
    let modelID: String
    /// The server's position map, canonical (`none`, `self-extend:G=8:W=256`).
    let defaultSpec: String
    /// The chat template's end-of-turn markers that are single special tokens (they stop as tokens)…
    let chatStopTokens: Set<Int>
    /// …and the others (they stop as text).
    let chatStopTexts: [String]

    init(model: LanguageModel, host: ServerHost) throws {
        let configuration = host.configuration
        self.host = host
        self.model = model
        modelID = configuration.alias ?? URL(fileURLWithPath: model.file.path).lastPathComponent
        let positions = try PositionSpec.parse(configuration.contextExtension, trainedContext: model.trainedContext)
        defaultSpec = positions.description
        // Each slot gets the configured size when its map allows it, else the map's limit.
        engine = try BatchEngine(
            model: model, slots: configuration.slots, positions: positions, contextSize: configuration.contextSize,
            maxWaiting: configuration.queueSize)
        (chatStopTokens, chatStopTexts) = model.chatFormatter.endOfTurnStops(tokenizer: model.tokenizer)
    }

    var configuration: ServerConfiguration { host.configuration }
    var metrics: ServerMetrics { host.metrics }
    var isDraining: Bool { host.isDraining }

    /// The position map of a spec, as a 400 naming the field when it is invalid.
    func positions(_ spec: String) throws -> PositionMap {
        do {
            return try PositionSpec.parse(spec, trainedContext: model.trainedContext)
        } catch {
            throw APIError.badRequest("invalid 'context_extension' \(spec): \(error)")
        }
    }
}
