import Stretch
import StretchEvaluation
import XCTest

final class BenchmarkTests: XCTestCase {
    func testLlamaBenchTestNames() {
        let tests = BenchmarkTest.grid(prompts: [512], generations: [128, 0], depths: [0, 4096])
        XCTAssertEqual(tests.map(\.name), ["pp512", "tg128", "pp512 @ d4096", "tg128 @ d4096"])
    }

    func testStatisticsAndReports() throws {
        let scheme = try ContextScheme(spec: "self-extend:G=4:W=128", trainedContext: 512)
        let r = BenchmarkRecord(
            test: BenchmarkTest(promptTokens: 100, generatedTokens: 0, depth: 0), scheme: scheme,
            threads: 2, batchSize: 256, samples: [1, 0.5])
        XCTAssertEqual(r.samplesTokensPerSecond, [100, 200])
        XCTAssertEqual(r.averageTokensPerSecond, 150)
        XCTAssertEqual(r.stddevTokensPerSecond, 2.0.squareRoot() * 50, accuracy: 1e-9)
        let report = BenchmarkReport(
            records: [r], model: "/m/tiny.gguf", modelType: "llama 5L d64", modelSize: 1_048_576,
            parameters: 260_000, date: "2025-01-01T00:00:00Z")
        XCTAssertEqual(
            report.markdown(),
            """
            | model     |     size | params | threads | context extension     |  test |            t/s |
            | --------- | -------: | -----: | ------: | --------------------- | ----: | -------------: |
            | tiny.gguf | 1.00 MiB | 0.26 M |       2 | self-extend:G=4:W=128 | pp100 | 150.00 ± 70.71 |

            """)
        guard case .object(let members) = report.jsonRecords()[0] else { return XCTFail("not an object") }
        let keys = members.map(\.0)
        for k in ["test", "n_prompt", "n_gen", "n_depth", "n_threads", "avg_ts", "stddev_ts", "context_extension"] {
            XCTAssertTrue(keys.contains(k), "missing \(k)")
        }
        XCTAssertEqual(report.csv().split(separator: "\n").count, 2)
        XCTAssertTrue(
            report.csv().hasPrefix("model_filename,model_type,model_size,model_n_params,n_batch,n_threads,test,"))
    }
}
