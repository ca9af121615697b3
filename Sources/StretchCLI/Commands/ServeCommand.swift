import ArgumentParser
import Foundation
import Stretch
import StretchServer

/// `stretch serve`: an OpenAI-compatible HTTP server (llama-server's flags and endpoints).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the model over HTTP: OpenAI-compatible chat and completions, llama-server endpoints.",
        discussion: """
            Endpoints: POST /v1/chat/completions, /v1/completions, /completion, /tokenize, /detokenize, \
            /apply-template; GET /v1/models, /health, /props, /slots (--slots), /metrics (--metrics). \
            -c is the context of each slot. SIGTERM or SIGINT cancels generations in flight and exits.
            """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var contextOptions: ContextOptions
    @OptionGroup var sampling: SamplingOptions

    @Option(name: .customLong("host"), help: "Address to listen on.") var host = "127.0.0.1"
    @Option(name: .customLong("port"), help: "Port to listen on (0: any free port).") var port = 8080
    @Option(
        name: [.customLong("parallel"), .customLong("np", withSingleDash: true)],
        help: "Slots: requests generated side by side, each with its own context.")
    var slots = 1
    @Option(
        name: [.customShort("n"), .customLong("n-predict")], help: "Default most tokens per reply (-1 = no limit).")
    var maxTokens: Int = -1
    @Option(
        name: .customLong("api-key"),
        help: "Require this key (Authorization: Bearer KEY) on every endpoint but /health and /v1/models.")
    var apiKey: String?
    @Option(name: .customLong("api-key-file"), help: "Read API keys from a file, one a line.") var apiKeyFile: String?
    @Option(name: [.customShort("a"), .customLong("alias")], help: "Model name in responses (default: the file name).")
    var alias: String?
    @Flag(name: .customLong("metrics"), help: "Serve Prometheus metrics at GET /metrics.") var metrics = false
    @Flag(name: .customLong("slots"), help: "Serve the slots' state at GET /slots.") var slotsEndpoint = false
    @Option(
        name: .customLong("chat-template"),
        help:
            "Use this chat template instead of the GGUF's: a built-in name (chatml, llama3, gemma, …) or Jinja source.")
    var chatTemplate: String?
    @Option(name: .customLong("chat-template-file"), help: "Read the chat template (Jinja) from a file.")
    var chatTemplateFile: String?
    @Option(name: .customLong("queue-size"), help: "Requests that may wait for a busy slot; more get 503.")
    var queueSize = 64
    @Option(name: .customLong("max-body-size"), help: "Largest request body in bytes.") var maxBodySize = 10 << 20
    @Option(
        name: .customLong("cors-origin"),
        help: "Let browser pages from this origin call the server (repeatable; '*' for any). Default: none.")
    var corsOrigins: [String] = []
    @Option(
        name: [.customLong("timeout"), .customLong("to", withSingleDash: true)],
        help: "Seconds a request may wait for a slot and generate.")
    var timeout: Double = 600

    func validate() throws {
        if chatTemplate != nil && chatTemplateFile != nil {
            throw ValidationError("give --chat-template or --chat-template-file, not both")
        }
        if apiKey != nil && apiKeyFile != nil { throw ValidationError("give --api-key or --api-key-file, not both") }
        if slots < 1 { throw ValidationError("-np must be at least 1 (got \(slots))") }
        if queueSize < 0 { throw ValidationError("--queue-size must be ≥ 0 (got \(queueSize))") }
        if maxBodySize < 1 { throw ValidationError("--max-body-size must be at least 1 (got \(maxBodySize))") }
        if !(1...65535).contains(port) && port != 0 {
            throw ValidationError("--port must be in 0...65535 (got \(port))")
        }
        if maxTokens < -1 { throw ValidationError("-n must be ≥ -1 (got \(maxTokens))") }
        if timeout <= 0 { throw ValidationError("--timeout must be > 0 (got \(timeout))") }
    }

    func run() async throws {
        let template = try chatTemplateFile.map(CommandSupport.readText) ?? chatTemplate
        // The header alone (fast) settles the flags, so that a wrong one fails before the port opens; the
        // weights and the tokenizer load while the server already answers /health with 503.
        let file = try modelOptions.openFile()
        let trainedContext = try ModelConfig(file: file).contextLength
        let (positions, plan) = try contextOptions.plan(trainedContext: trainedContext)
        var configuration = ServerConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.slots = slots
        configuration.contextSize = contextOptions.contextSize ?? contextOptions.targetContext
        configuration.contextExtension = positions.description
        configuration.alias = alias
        configuration.metrics = metrics
        configuration.slotsEndpoint = slotsEndpoint
        configuration.queueSize = queueSize
        configuration.maxBodySize = maxBodySize
        configuration.corsOrigins = corsOrigins
        configuration.requestTimeout = timeout
        configuration.sampling = sampling.parameters
        configuration.maxTokens = maxTokens
        if let apiKey { configuration.apiKeys = [apiKey] }
        if let apiKeyFile {
            configuration.apiKeys = try CommandSupport.readText(apiKeyFile).split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            if configuration.apiKeys.isEmpty { throw ValidationError("--api-key-file \(apiKeyFile) holds no key") }
        }
        let host = self.host
        let slots = configuration.slots
        let options = modelOptions.loadOptions
        // A test hook: keeps the model "loading" this long, so that /health's 503 can be observed.
        let delay = ProcessInfo.processInfo.environment["STRETCH_SERVE_LOAD_DELAY"].flatMap(Double.init) ?? 0
        try await serve(
            configuration: configuration,
            load: {
                if delay > 0 { Thread.sleep(forTimeInterval: delay) }
                return try LanguageModel(file: file, options: options, chatTemplate: template)
            },
            onListening: { port in
                Console.error("listening on http://\(host):\(port) (loading the model)")
            },
            onLoaded: { model in
                if let warning = model.chatFormatter.warning { Console.error("warning: \(warning)") }
                Console.error(
                    ContextOptions.kvSummary(model.network, positions: positions, tokens: plan.contextSize)
                        + ", per slot × \(slots) slot(s)")
                Console.error(
                    "model loaded: ready (\(slots) slot(s) batched together, chat template: "
                        + "\(model.chatFormatter.description))")
            })
        Console.error("server stopped")
    }
}
