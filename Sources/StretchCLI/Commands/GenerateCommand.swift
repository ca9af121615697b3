import ArgumentParser
import Foundation
import Stretch

/// `stretch generate`: stream a continuation of a prompt to stdout, timings to stderr.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "Generate text from a prompt (streams to stdout; timings on stderr).")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var contextOptions: ContextOptions
    @OptionGroup var sampling: SamplingOptions

    @Option(name: [.customShort("p"), .customLong("prompt")], help: "Prompt text.") var prompt: String?
    @Option(name: [.customShort("f"), .customLong("file")], help: "Read the prompt from a file.") var file: String?
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

    func run() throws {
        let gguf = try modelOptions.openFile()
        let model = try modelOptions.loadModel(gguf)
        let tokenizer = try Tokenizer(gguf: gguf)
        let (positions, plan) = try contextOptions.plan(trainedContext: model.config.contextLength)
        var text = prompt ?? ""
        if let file { text = try String(contentsOfFile: file, encoding: .utf8) }
        let ids = tokenizer.encode(text, addSpecial: true, parseSpecial: special)
        if verbose {
            Console.error("model: \(gguf.path) (\(model.config.architecture), \(model.config.blockCount) layers, "
                + "d=\(model.config.embeddingLength), heads \(model.config.headCount)/\(model.config.headCountKV)), "
                + "threads \(model.threads), precision \(modelOptions.precision.rawValue)")
        }
        if ids.count + max(0, maxTokens) > plan.contextSize {
            throw ValidationError(
                "the prompt (\(ids.count) tokens) plus -n \(maxTokens) exceeds the context of \(plan.contextSize) tokens "
                    + "(trained L=\(model.config.contextLength); \(positions.limitExplanation(trainedContext: model.config.contextLength))); "
                    + "raise -c, lower -n, or use Self-Extend (-gan/-gaw)")
        }
        let generator = TextGenerator(model: model, tokenizer: tokenizer, positions: positions, contextSize: plan.contextSize)
        let stats = try generator.generate(
            promptTokens: ids, maxTokens: maxTokens, sampling: sampling.parameters, stop: stop
        ) { piece in
            Console.out(piece)
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
