import ArgumentParser
import Foundation
import Stretch
import StretchEvaluation

/// `stretch bench`: llama-bench-style throughput (pp/tg tests, mean ± sd tokens/s) with and without
/// the chosen context extension.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Throughput like llama-bench: pp512, tg128, pp512 @ d4096 (tokens/s, mean ± sd).",
        discussion: """
            Random token ids are used, so tokenization and sampling are outside the timings. Each test runs \
            with plain attention and, when one is chosen (-gan/-gaw or --context-extension), with that \
            extension too, alternating the schemes within each repetition; --compare lists schemes explicitly. Depth tokens are processed once, untimed.
            """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var contextOptions: ContextOptions
    @OptionGroup var sampling: SamplingOptions

    @Option(
        name: [.customShort("p"), .customLong("n-prompt")], help: "Prompt sizes to time, comma-separated (0 = none).")
    var prompts = "512"
    @Option(
        name: [.customShort("n"), .customLong("n-gen")], help: "Generation lengths to time, comma-separated (0 = none)."
    )
    var generations = "128"
    @Option(name: .customLong("depths"), help: "Tokens already in the cache before timing, comma-separated.")
    var depths = "0"
    @Option(name: [.customShort("r"), .customLong("repetitions")], help: "Timed repetitions per test.")
    var repetitions = 5
    @Option(name: [.customShort("o"), .customLong("output")], help: "Output format: md, csv or json.")
    var output: BenchmarkReport.Format = .md
    @Option(name: .customLong("compare"), help: "Comma-separated schemes to time instead of none + the chosen one.")
    var compare: String?
    @Flag(name: .customLong("quiet"), help: "No progress or notes on stderr.") var quiet = false

    func validate() throws {
        if repetitions < 1 { throw ValidationError("-r must be ≥ 1 (got \(repetitions))") }
    }

    func run() throws {
        let gguf = try modelOptions.openFile()
        let model = try modelOptions.loadModel(gguf)
        let c = model.config
        let L = c.contextLength
        let tests = BenchmarkTest.grid(
            prompts: try TokenCountList.parse(prompts), generations: try TokenCountList.parse(generations),
            depths: try TokenCountList.parse(depths))
        let bench = try BenchmarkRun(
            tests: tests, repetitions: repetitions, seed: sampling.seed >= 0 ? UInt64(sampling.seed) : 1)
        let schemes = try contextOptions.schemes(compare: compare, trainedContext: L, withBaseline: true)
        try CommandSupport.noteContext(
            schemes, model: model, requested: bench.maxSequence, quiet: quiet, suffix: " (timings are still valid)")
        let progress = ProgressReporter(total: bench.tokensPerScheme * schemes.count, quiet: quiet)
        let label = schemes.map(\.spec).joined(separator: " / ")
        let records = try bench.run(model: model, schemes: schemes) { done in progress.update(done, label: label) }
        progress.finish(
            String(
                format: "bench: %d tests × %d schemes × %d repetitions in %.1f s", tests.count,
                schemes.count, repetitions, progress.elapsed))
        let report = BenchmarkReport(
            records: records, model: modelOptions.modelPath,
            modelType: "\(c.architecture) \(c.blockCount)L d\(c.embeddingLength)", modelSize: gguf.mapping.size,
            parameters: gguf.tensors.reduce(0) { $0 + $1.elementCount },
            date: ISO8601DateFormatter().string(from: Date()))
        Console.out(report.render(output))
    }
}

extension BenchmarkReport.Format: ExpressibleByArgument {}
