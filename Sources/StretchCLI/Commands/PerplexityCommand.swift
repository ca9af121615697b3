import ArgumentParser
import Foundation
import Stretch
import StretchEvaluation

/// `stretch perplexity`: llama.cpp-style perplexity, bucketed by position, for one or more context schemes.
struct PerplexityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perplexity",
        abstract: "Perplexity by position over non-overlapping windows (llama.cpp semantics), comparing schemes.",
        discussion: """
            Windows of -c N tokens (0 = one window spanning the input; default min(L, 4096)) are scored from an \
            empty cache; with text input each window starts with BOS when the model adds one. Only the second \
            half of each window counts unless --score all. Ends with llama.cpp's "Final estimate: PPL = X +/- Y".
            Example: stretch perplexity -m stories260K.gguf -f text.txt -c 4096 --chunks 1 --score all \
            --compare none,self-extend:G=16:W=256 --plot nll.svg
            """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var contextOptions: ContextOptions
    @OptionGroup var sampling: SamplingOptions

    @Option(
        name: [.customShort("f"), .customLong("file")], help: "Text file to score (tokenized with the model's BOS).")
    var file: String?
    @Option(name: .customLong("tokens"), help: "JSON array of token ids to score instead of text (no BOS added).")
    var tokensFile: String?
    @Option(name: .customLong("chunks"), help: "Number of windows to score (default: as many as fit).")
    var chunks: Int?
    @Option(name: .customLong("score"), help: "half: second half of each window (llama.cpp); all: every prediction.")
    var score: PerplexityScoreMode = .half
    @Option(
        name: .customLong("compare"),
        help: "Comma-separated schemes to run on the same tokens, e.g. none,self-extend:G=16:W=256.")
    var compare: String?
    @Option(name: .customLong("bucket"), help: "Bucket width in tokens (default: min(512, L/4)).")
    var bucket: Int?
    @Option(name: .customLong("csv"), help: "Write per-bucket results as CSV to this file.") var csvPath: String?
    @Option(name: .customLong("json"), help: "Write the full report (buckets, per-token nll) as JSON to this file.")
    var jsonPath: String?
    @Option(name: .customLong("plot"), help: "Write an SVG plot of NLL (or PPL) by position to this file.")
    var plotPath: String?
    @Option(name: .customLong("plot-metric"), help: "What the plot shows: nll or ppl (log scale).")
    var plotMetric: PerplexityReport.PlotMetric = .nll
    @Flag(name: .customLong("quiet"), help: "No progress or notes on stderr.") var quiet = false

    func validate() throws {
        if (file == nil) == (tokensFile == nil) {
            throw ValidationError("give the input with exactly one of -f TEXT or --tokens IDS.json")
        }
        if let bucket, bucket < 1 { throw ValidationError("--bucket must be ≥ 1 (got \(bucket))") }
        if let chunks, chunks < 1 { throw ValidationError("--chunks must be ≥ 1 (got \(chunks))") }
    }

    func run() throws {
        let gguf = try modelOptions.openFile()
        let model = try modelOptions.loadModel(gguf)
        let L = model.config.contextLength
        let tokenizer = try Tokenizer(gguf: gguf)
        let tokens: [Int]
        let bos: Int?
        if let file {
            let text = try CommandSupport.readText(file)
            tokens = tokenizer.encode(text, addSpecial: true, parseSpecial: false)
            bos = tokenizer.addBOS ? tokenizer.bosID : nil
        } else {
            tokens = try CommandSupport.readTokenIDs(tokensFile!, vocabularySize: model.config.vocabularySize)
            bos = nil
        }
        let schemes = try contextOptions.schemes(compare: compare, trainedContext: L)
        let requested = contextOptions.contextSize ?? min(L, 4096)
        let run = try PerplexityRun(
            tokenCount: tokens.count, windowSize: requested, chunks: chunks, scoreMode: score, bosID: bos)
        // (ProgressReporter.note is already silent with --quiet.)
        try CommandSupport.noteContext(schemes, model: model, requested: run.windowSize, quiet: quiet)
        let progress = ProgressReporter(total: run.tokensPerScheme * schemes.count, quiet: quiet)
        let results = try CommandSupport.forEachScheme(schemes, tokensPerScheme: run.tokensPerScheme, progress: progress) {
            try run.run(model: model, tokens: tokens, scheme: $0, progress: $1)
        }
        progress.finish(
            String(
                format: "perplexity: %d schemes × %d windows × %d tokens in %.1f s", schemes.count,
                run.windowCount, run.windowSize, progress.elapsed))
        let report = PerplexityReport(
            results: results, run: run, bucketSize: bucket ?? PositionBuckets.defaultSize(trainedContext: L),
            trainedContext: L,
            source: file ?? tokensFile!, model: modelOptions.modelPath, inputTokens: tokens.count)
        Console.out(report.table())
        if let csvPath { try CommandSupport.write(report.csv(), to: csvPath) }
        if let jsonPath { try CommandSupport.write(report.json().rendered() + "\n", to: jsonPath) }
        if let plotPath { try CommandSupport.write(report.plot(metric: plotMetric).svg(), to: plotPath) }
    }
}

extension PerplexityScoreMode: ExpressibleByArgument {}
extension PerplexityReport.PlotMetric: ExpressibleByArgument {}
