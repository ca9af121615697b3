import Foundation
import Stretch

/// The timings of one test under one scheme, with llama-bench's field names.
public struct BenchmarkRecord: Sendable {
    /// The test.
    public let test: BenchmarkTest
    /// The context-extension scheme.
    public let scheme: ContextScheme
    /// Worker threads.
    public let threads: Int
    /// Prefill batch size.
    public let batchSize: Int
    /// Seconds of each repetition's timed part.
    public let samples: [Double]

    /// Creates a record.
    public init(test: BenchmarkTest, scheme: ContextScheme, threads: Int, batchSize: Int, samples: [Double]) {
        self.test = test
        self.scheme = scheme
        self.threads = threads
        self.batchSize = batchSize
        self.samples = samples
    }

    /// Tokens per second of each repetition.
    public var samplesTokensPerSecond: [Double] { samples.map { $0 > 0 ? Double(test.timedTokens) / $0 : 0 } }

    static func meanAndSD(_ xs: [Double]) -> (Double, Double) {
        guard !xs.isEmpty else { return (0, 0) }
        let m = xs.reduce(0, +) / Double(xs.count)
        guard xs.count > 1 else { return (m, 0) }
        let v = xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count - 1)
        return (m, v.squareRoot())
    }

    /// Mean tokens/s over repetitions (`avg_ts`, llama-bench averages the per-run rates).
    public var averageTokensPerSecond: Double { Self.meanAndSD(samplesTokensPerSecond).0 }
    /// Sample standard deviation of tokens/s (`stddev_ts`).
    public var stddevTokensPerSecond: Double { Self.meanAndSD(samplesTokensPerSecond).1 }

    /// The JSON record: llama-bench's fields plus the scheme.
    public func json(model: String, modelType: String, modelSize: Int, parameters: Int, date: String) -> JSONValue {
        let ns = samples.map { Int(($0 * 1e9).rounded()) }
        let (avgNS, sdNS) = Self.meanAndSD(ns.map(Double.init))
        let parallel: [(String, JSONValue)] = test.sequences.map { [("n_parallel", .int($0))] } ?? []
        return .object([
            ("model_filename", .string(model)),
            ("model_type", .string(modelType)),
            ("model_size", .int(modelSize)),
            ("model_n_params", .int(parameters)),
            ("n_batch", .int(batchSize)),
            ("n_threads", .int(threads)),
            ("test", .string(test.name)),
            ("n_prompt", .int(test.promptTokens)),
            ("n_gen", .int(test.generatedTokens)),
            ("n_depth", .int(test.depth)),
        ] + parallel + [
            ("context_extension", .string(scheme.spec)),
            ("context_extension_name", .string(scheme.name)),
            ("context_extension_parameters", .object(scheme.parameters)),
            ("test_time", .string(date)),
            ("avg_ns", .int(Int(avgNS.rounded()))),
            ("stddev_ns", .int(Int(sdNS.rounded()))),
            ("avg_ts", .double(averageTokensPerSecond)),
            ("stddev_ts", .double(stddevTokensPerSecond)),
            ("samples_ns", .array(ns.map(JSONValue.int))),
            ("samples_ts", .array(samplesTokensPerSecond.map(JSONValue.double))),
        ])
    }
}
