import ArgumentParser
import Foundation
import Stretch

/// `stretch generate`: stream a continuation of a prompt to stdout, timings to stderr.
struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "Generate text from a prompt (streams to stdout; timings on stderr).")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var contextOptions: ContextOptions
    @OptionGroup var sampling: SamplingOptions

    @Option(name: [.customShort("p"), .customLong("prompt")], help: "Prompt text.") var prompt: String?
    @Option(name: [.customShort("f"), .customLong("file")], help: "Read the prompt from a file (- for standard input).") var file: String?
    @Option(name: [.customShort("n"), .customLong("n-predict")], help: "Tokens to generate (-1 = until the context is full).")
    var maxTokens: Int = 128
    @Option(name: .customLong("stop"), help: "Stop when this text is produced (repeatable).") var stop: [String] = []
    @Flag(name: .customLong("no-special"), inversion: .prefixedNo,
          help: "Parse special-token text such as <|im_start|> in the prompt (default: on).")
    var special = true
    @Flag(name: .customLong("verbose"), help: "Print model and memory details on stderr.") var verbose = false

    func validate() throws {
        if prompt != nil && file != nil { throw ValidationError("give the prompt with -p or -f, not both") }
        if maxTokens < -1 { throw ValidationError("-n must be ≥ -1 (got \(maxTokens))") }
    }

    func run() async throws {
        let model = try modelOptions.loadLanguageModel()
        let session = try contextOptions.session(on: model)
        var text = prompt ?? ""
        if let file { text = try CommandSupport.readText(file) }
        let ids = model.tokenizer.encode(text, addSpecial: true, parseSpecial: special)
        let config = model.network.config
        if verbose {
            Console.error("model: \(model.file.path) (\(config.architecture), \(config.blockCount) layers, "
                + "d=\(config.embeddingLength), heads \(config.headCount)/\(config.headCountKV)), "
                + "threads \(model.options.threads), precision \(model.options.precision.rawValue)")
        }
        if ids.count + max(0, maxTokens) > session.contextSize {
            throw ValidationError(
                "the prompt (\(ids.count) tokens) plus -n \(maxTokens) exceeds the context of \(session.contextSize) tokens "
                    + "(trained L=\(config.contextLength); \(session.positions.limitExplanation(trainedContext: config.contextLength))); "
                    + "raise -c, lower -n, or use Self-Extend (-gan/-gaw)")
        }
        let parameters = GenerationParameters(maxTokens: maxTokens, sampling: sampling.parameters, stop: stop)
        var stats = GenerationStatistics()
        for try await event in session.generate(prompt: ids, parameters: parameters) {
            if case let .finished(s) = event { stats = s } else { Console.out(event.text) }
        }
        Console.out("\n")
        Console.error(String(
            format: "prompt: %d tokens, %.2f tokens/s | eval: %d tokens, %.2f tokens/s | stop: %@",
            stats.promptTokens, stats.promptTokensPerSecond, stats.generatedTokens, stats.generationTokensPerSecond,
            stats.stopReason.rawValue))
        if verbose {
            Console.error("peak RSS: \(MemoryUsage.peakResidentBytes() / (1 << 20)) MiB")
        }
    }
}
