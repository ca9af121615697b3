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

            --parallel 1,2,4,8 (llama-batched-bench's -npl) times aggregate decode instead: that many \
            sequences generate -n tokens each at once through the batch engine (one forward pass per step for \
            all of them, as `stretch serve -np` runs them), each after its own random prompt of --depths \
            tokens (at least one), run untimed first; tokens/s is all sequences' tokens over the wall time.
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
    @Option(
        name: [.customLong("parallel"), .customLong("npl", withSingleDash: true)],
        help: "Sequences decoding at once, comma-separated: time aggregate decode through the batch engine.")
    var parallel: String?
    @Flag(name: .customLong("quiet"), help: "No progress or notes on stderr.") var quiet = false

    func validate() throws {
        if repetitions < 1 { throw ValidationError("-r must be ≥ 1 (got \(repetitions))") }
    }

    func run() throws {
        if parallel != nil {
            try runParallel()
            return
        }
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
        report(records, tests: tests.count, schemes: schemes.count, progress: progress, gguf: gguf, config: c)
    }

    /// Prints the records in the chosen format, after the run's summary line on stderr.
    private func report(
        _ records: [BenchmarkRecord], tests: Int, schemes: Int, progress: ProgressReporter, gguf: GGUFFile,
        config c: ModelConfig
    ) {
        progress.finish(
            String(
                format: "bench: %d tests × %d schemes × %d repetitions in %.1f s", tests, schemes, repetitions,
                progress.elapsed))
        let report = BenchmarkReport(
            records: records, model: modelOptions.modelPath,
            modelType: "\(c.architecture) \(c.blockCount)L d\(c.embeddingLength)", modelSize: gguf.mapping.size,
            parameters: gguf.tensors.reduce(0) { $0 + $1.elementCount },
            date: ISO8601DateFormatter().string(from: Date()))
        Console.out(report.render(output))
    }
}

extension BenchCommand {
    /// `--parallel`: aggregate decode of several sequences through ``BatchEngine``.
    private func runParallel() throws {
        let gguf = try modelOptions.openFile()
        let model = try LanguageModel(file: gguf, options: modelOptions.loadOptions)
        let c = model.network.config
        let bench = try ParallelDecodeRun(
            generations: try TokenCountList.parse(generations), depths: try TokenCountList.parse(depths),
            sequences: try TokenCountList.parse(parallel ?? "1"), repetitions: repetitions,
            seed: sampling.seed >= 0 ? UInt64(sampling.seed) : 1)
        let schemes = try contextOptions.schemes(compare: compare, trainedContext: c.contextLength, withBaseline: true)
        try CommandSupport.noteContext(
            schemes, model: model.network, requested: bench.contextPerSlot, quiet: quiet,
            suffix: " (timings are still valid)")
        let progress = ProgressReporter(total: bench.tokensPerScheme * schemes.count, quiet: quiet)
        progress.note("bench: --parallel times decode only (-p is not used); \(bench.slots) slots")
        let label = schemes.map(\.spec).joined(separator: " / ")
        // The engine works on its own thread; this (main, not a cooperative-pool) thread waits for it.
        let outcome = ResultBox()
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            do {
                outcome.set(.success(try await bench.run(model: model, schemes: schemes) { progress.update($0, label: label) }))
            } catch {
                outcome.set(.failure(error))
            }
            done.signal()
        }
        done.wait()
        let records = try outcome.get()
        report(records, tests: bench.tests.count, schemes: schemes.count, progress: progress, gguf: gguf, config: c)
    }
}

/// The result of work done on another thread, read after it signals.
private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<[BenchmarkRecord], Error>?

    func set(_ value: Result<[BenchmarkRecord], Error>) { lock.withLock { result = value } }

    func get() throws -> [BenchmarkRecord] {
        guard let result = lock.withLock({ result }) else { preconditionFailure("read before set") }
        return try result.get()
    }
}

extension BenchmarkReport.Format: ExpressibleByArgument {}
