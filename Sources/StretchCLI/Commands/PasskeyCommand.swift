import ArgumentParser
import Foundation
import Stretch
import StretchEvaluation

/// `stretch passkey`: passkey retrieval accuracy over a grid of prompt lengths × key depths.
struct PasskeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "passkey",
        abstract: "Passkey retrieval accuracy (Landmark-Attention prompts) over prompt lengths × key depths.",
        discussion: """
            Each cell gets --trials prompts with random 5-digit keys drawn from --seed (default 1; the same keys \
            for every scheme), decoded greedily. The scheme comes from -gan/-gaw/--context-extension, or list \
            several with --compare, e.g. --compare none,self-extend:G=4:W=1024.
            """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var contextOptions: ContextOptions
    @OptionGroup var sampling: SamplingOptions

    @Option(name: .customLong("lengths"), help: "Prompt lengths in tokens, comma-separated (k = 1024).")
    var lengths = "1k,2k,4k"
    @Option(name: .customLong("depths"), help: "Key depths from 0 (start) to 1 (end), comma-separated.")
    var depths = "0,0.25,0.5,0.75,1"
    @Option(name: .customLong("trials"), help: "Prompts (keys) per (length, depth) cell.") var trials = 5
    @Option(name: .customLong("compare"), help: "Comma-separated schemes to run on the same prompts.")
    var compare: String?
    @Option(name: .customLong("json"), help: "Write every trial and cell accuracy as JSON to this file.")
    var jsonPath: String?
    @Option(name: .customLong("plot"), help: "Write an SVG heatmap (length × depth, colour = accuracy) to this file.")
    var plotPath: String?
    @Flag(name: .customLong("quiet"), help: "No progress or notes on stderr.") var quiet = false

    func validate() throws {
        if trials < 1 { throw ValidationError("--trials must be ≥ 1 (got \(trials))") }
    }

    func run() throws {
        let gguf = try modelOptions.openFile()
        let model = try modelOptions.loadModel(gguf)
        let L = model.config.contextLength
        let tokenizer = try Tokenizer(gguf: gguf)
        let lengthList = try TokenCountList.parse(lengths)
        let depthList = try depths.split(separator: ",", omittingEmptySubsequences: false).map { text -> Double in
            guard let d = Double(text.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--depths: '\(text)' is not a number; use fractions such as 0,0.25,0.5,0.75,1")
            }
            return d
        }
        let schemes = try contextOptions.schemes(compare: compare, trainedContext: L)
        let seed = sampling.seed >= 0 ? UInt64(sampling.seed) : 1
        let grid = try PasskeyRun(
            lengths: lengthList, depths: depthList, trials: trials, seed: seed, tokenizer: tokenizer)
        try CommandSupport.noteContext(schemes, model: model, requested: grid.maxSequence, quiet: quiet)
        let progress = ProgressReporter(total: grid.tokensPerScheme * schemes.count, quiet: quiet)
        let results = try CommandSupport.forEachScheme(schemes, tokensPerScheme: grid.tokensPerScheme, progress: progress) {
            try grid.run(model: model, tokenizer: tokenizer, scheme: $0, progress: $1)
        }
        progress.finish(
            String(
                format: "passkey: %d schemes × %d prompts in %.1f s", schemes.count, grid.cases.count,
                progress.elapsed))
        let report = PasskeyReport(results: results, run: grid, trainedContext: L, model: modelOptions.modelPath)
        Console.out(report.table())
        if let jsonPath { try CommandSupport.write(report.json().rendered() + "\n", to: jsonPath) }
        if let plotPath { try CommandSupport.write(report.heatmap().svg(), to: plotPath) }
    }
}
