import Foundation
import Stretch
import Synchronization

/// What every request handler shares: the model, the slots, the metrics and the configuration.
final class ServerState: Sendable {
    let model: LanguageModel
    let configuration: ServerConfiguration
    let pool: SlotPool
    let metrics = ServerMetrics()
    /// The model's id in responses: the alias, else the file name.
    let modelID: String
    /// The server's position map, canonical (`none`, `self-extend:G=8:W=256`).
    let defaultSpec: String
    /// The chat template's end-of-turn markers that are single special tokens (they stop as tokens)…
    let chatStopTokens: Set<Int>
    /// …and the others (they stop as text).
    let chatStopTexts: [String]
    private let draining = Atomic<Bool>(false)
    private let runs = Mutex<[ObjectIdentifier: GenerationRun]>([:])
    private let requestCounter = Atomic<Int>(0)

    init(model: LanguageModel, configuration: ServerConfiguration) throws {
        self.model = model
        self.configuration = configuration
        modelID = configuration.alias ?? URL(fileURLWithPath: model.file.path).lastPathComponent
        defaultSpec = try Self.canonical(configuration.contextExtension, model: model)
        pool = try SlotPool(
            model: model, count: configuration.slots, spec: defaultSpec, contextSize: configuration.contextSize,
            queueSize: configuration.queueSize)
        (chatStopTokens, chatStopTexts) = model.chatFormatter.endOfTurnStops(tokenizer: model.tokenizer)
    }

    /// The canonical form of a context extension spec (its position map's description).
    static func canonical(_ spec: String, model: LanguageModel) throws -> String {
        try PositionSpec.parse(spec, trainedContext: model.trainedContext).description
    }

    /// Whether the server is shutting down (health answers 503).
    var isDraining: Bool { draining.load(ordering: .relaxed) }

    /// Marks the server as shutting down.
    func drain() {
        draining.store(true, ordering: .relaxed)
        for run in runs.withLock({ Array($0.values) }) { run.cancel() }
    }

    /// Registers a generation in flight, so that shutting down can cancel it.
    func track(_ run: GenerationRun) {
        runs.withLock { $0[ObjectIdentifier(run)] = run }
        if isDraining { run.cancel() }
    }

    /// Forgets a generation that ended.
    func untrack(_ run: GenerationRun) { _ = runs.withLock { $0.removeValue(forKey: ObjectIdentifier(run)) } }

    /// A new request number (for ids).
    func nextRequestNumber() -> Int { requestCounter.wrappingAdd(1, ordering: .relaxed).newValue }
}
