import Foundation
import XCTest

/// `stretch perplexity`, `passkey` and `bench`, run as a user runs them.
final class EvaluationCLITests: XCTestCase {
    private func temporary(_ name: String) -> String {
        NSTemporaryDirectory() + "stretch-eval-\(UUID().uuidString)-\(name)"
    }

    /// The X of every `Final estimate: PPL = X +/- Y` line.
    private func finalEstimates(_ stdout: String) -> [Double] {
        stdout.split(separator: "\n").filter { $0.hasPrefix("Final estimate: PPL = ") }.compactMap {
            Double($0.dropFirst("Final estimate: PPL = ".count).split(separator: " ")[0])
        }
    }

    /// Must-show 1: on stories260K at 4,096 tokens the baseline blows up past L=512 and Self-Extend stays flat;
    /// both agree with an independent exact implementation (PPL 32.9 and 3.71) within 1%.
    func testStories260KPerplexityBaselineVersusSelfExtendMatchesReference() throws {
        let model = try TestFiles.stories260K
        let text = try TestFiles.shared("data/text/tinystories_validation_head.txt")
        let json = temporary("ppl.json")
        let svg = temporary("ppl.svg")
        let csv = temporary("ppl.csv")
        defer { for f in [json, svg, csv] { try? FileManager.default.removeItem(atPath: f) } }
        let r = try CLIRunner.run([
            "perplexity", "-m", model, "-f", text, "-c", "4096", "--score", "all", "--chunks", "1",
            "--compare", "none,self-extend:G=16:W=256", "--json", json, "--plot", svg, "--csv", csv,
        ])
        XCTAssertEqual(r.status, 0, r.stderr)
        let estimates = finalEstimates(r.stdout)
        XCTAssertEqual(estimates.count, 2, r.stdout)
        XCTAssertEqual(estimates[0], 32.9, accuracy: 0.329, "plain attention")
        XCTAssertEqual(estimates[1], 3.71, accuracy: 0.0371, "Self-Extend G=16 W=256")
        XCTAssertTrue(r.stdout.contains("---- past the trained context L=512 ----"), r.stdout)
        XCTAssertTrue(
            r.stdout.hasPrefix(
                "perplexity of \(text): 1 window of 4096 tokens, --score all (4095 predictions "
                    + "per window), buckets of 128 tokens, trained context L=512\n"), r.stdout)
        // Not a terminal: no live progress; per scheme its context and KV cache lines, the warning for plain
        // attention past L, and a final summary.
        let errLines = r.stderr.split(separator: "\n").map(String.init)
        XCTAssertEqual(errLines.count, 6, r.stderr)
        XCTAssertTrue(errLines[0].hasPrefix("none: context: 4096 tokens (trained L=512; none"), r.stderr)
        XCTAssertTrue(errLines[1].hasPrefix("none: KV cache: K f16, V f16, "), r.stderr)
        XCTAssertTrue(errLines[1].contains(" for 4096 tokens"), r.stderr)
        XCTAssertTrue(errLines[2].hasPrefix("none: warning: a context of 4096 tokens is above 512 tokens"), r.stderr)
        // The library's warning names no flags; the CLI adds them.
        XCTAssertTrue(errLines[2].contains("(use --grp-attn-n/--grp-attn-w for Self-Extend)"), r.stderr)
        XCTAssertTrue(errLines[3].hasPrefix("self-extend:G=16:W=256: context: 4096 tokens (trained L=512;"), r.stderr)
        XCTAssertTrue(errLines[4].hasPrefix("self-extend:G=16:W=256: KV cache: K f16, V f16"), r.stderr)
        XCTAssertTrue(errLines[5].hasPrefix("perplexity: 2 schemes × 1 windows × 4096 tokens in "), r.stderr)

        let report = try TestFiles.json(json)
        XCTAssertEqual(report["window"] as? Int, 4096)
        XCTAssertEqual(report["score"] as? String, "all")
        let schemes = try XCTUnwrap(report["schemes"] as? [[String: Any]])
        XCTAssertEqual(schemes.map { $0["scheme"] as? String }, ["none", "self-extend:G=16:W=256"])
        XCTAssertEqual(schemes[1]["parameters"] as? [String: Int], ["G": 16, "W": 256])
        func bucketNLL(_ s: [String: Any]) -> [Int: Double] {
            Dictionary(
                uniqueKeysWithValues: (s["buckets"] as! [[String: Any]]).map {
                    ($0["start"] as! Int, $0["mean_nll"] as! Double)
                })
        }
        let base = bucketNLL(schemes[0])
        let se = bucketNLL(schemes[1])
        let inside = (0..<4).map { se[$0 * 128]! }.reduce(0, +) / 4
        // The baseline rises far past L; Self-Extend stays within 25% of its NLL inside L in every late bucket.
        XCTAssertGreaterThan(base[3968]!, 3 * inside)
        for start in stride(from: 2048, to: 4096, by: 128) {
            XCTAssertLessThan(se[start]!, 1.25 * inside + 0.2, "bucket \(start)")
            XCTAssertGreaterThan(base[start]!, se[start]!, "bucket \(start)")
        }
        // nll[i] is token i+1 given 0…i: 4095 entries, all scored with --score all; its mean is the reported mean.
        let nll = try XCTUnwrap(schemes[1]["nll"] as? [Double])
        XCTAssertEqual(nll.count, 4095)
        XCTAssertEqual(nll.reduce(0, +) / 4095, schemes[1]["mean_nll"] as! Double, accuracy: 1e-6)

        let plot = try ParsedSVG(String(contentsOfFile: svg, encoding: .utf8))
        XCTAssertEqual(plot.texts(in: "legend"), ["none", "self-extend:G=16:W=256"])
        XCTAssertEqual(plot.texts(in: "markers"), ["trained L=512"])
        XCTAssertEqual(plot.texts(in: "x-axis").first, "0")
        XCTAssertTrue(plot.texts(in: "x-axis").contains("4096"))
        XCTAssertEqual(try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").count, 1 + 2 * 32)
    }

    /// Must-show 2: the first 1,024 predicted tokens of Pride and Prejudice after the Gutenberg START line,
    /// as llama.cpp scores them (Qwen adds no BOS), agree with llama.cpp's PPL 68.87 within 1%.
    func testQwenPerplexityMatchesLlamaCpp() throws {
        let model = try TestFiles.qwen
        let book = try String(
            contentsOfFile: try TestFiles.shared("data/text/pg1342_pride_and_prejudice.txt"), encoding: .utf8)
        let start = try XCTUnwrap(book.range(of: "*** START OF THE PROJECT GUTENBERG EBOOK"))
        let lineEnd = try XCTUnwrap(book.range(of: "\n", range: start.upperBound..<book.endIndex))
        let text = temporary("pg1342.txt")
        defer { try? FileManager.default.removeItem(atPath: text) }
        try String(book[lineEnd.upperBound...]).write(toFile: text, atomically: true, encoding: .utf8)
        let r = try CLIRunner.run([
            "perplexity", "-m", model, "-f", text, "-c", "1025", "--chunks", "1", "--score", "all",
        ])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("1 window of 1025 tokens, --score all (1024 predictions per window)"), r.stdout)
        let ppl = try XCTUnwrap(finalEstimates(r.stdout).first, r.stdout)
        XCTAssertEqual(ppl, 68.87, accuracy: 0.6887)
    }

    func testPerplexityTokensInputHalfScoringAndQuiet() throws {
        let model = try TestFiles.stories260K
        let text = try TestFiles.shared("data/text/tinystories_validation_head.txt")
        let head = temporary("head.txt")
        let ids = temporary("ids.json")
        defer { for f in [head, ids] { try? FileManager.default.removeItem(atPath: f) } }
        try String(try String(contentsOfFile: text, encoding: .utf8).prefix(3000)).write(
            toFile: head, atomically: true, encoding: .utf8)
        let tok = try CLIRunner.run(["tokenize", "-m", model, "-f", head])
        try tok.stdout.write(toFile: ids, atomically: true, encoding: .utf8)
        let fromText = try CLIRunner.run(["perplexity", "-m", model, "-f", head, "-c", "256", "--quiet"])
        let fromIDs = try CLIRunner.run([
            "perplexity", "-m", model, "--tokens", ids, "-c", "256", "--chunks", "1", "--quiet",
            "--bucket", "64",
        ])
        XCTAssertEqual(fromText.status, 0, fromText.stderr)
        XCTAssertEqual(fromIDs.status, 0, fromIDs.stderr)
        XCTAssertEqual(fromText.stderr, "", "--quiet writes nothing on stderr")
        XCTAssertTrue(
            fromText.stdout.contains("windows of 256 tokens, --score half (127 predictions per window)"),
            fromText.stdout)
        // The first window is identical both ways (BOS first); half scoring leaves buckets 0…1 of 64 empty.
        XCTAssertTrue(
            fromIDs.stdout.contains("1 window of 256 tokens, --score half (127 predictions per window), buckets of 64"),
            fromIDs.stdout)
        let rows = fromIDs.stdout.split(separator: "\n").filter { $0.first?.isNumber == true }.map {
            $0.split(separator: " ")[0]
        }
        XCTAssertEqual(rows, ["128-191", "192-255"])
        let windows = fromText.stdout.split(separator: "\n").first!
        XCTAssertTrue(windows.contains("windows of 256"), String(windows))
    }

    func testPerplexityErrorsAreActionable() throws {
        let model = try TestFiles.stories260K
        let none = try CLIRunner.run(["perplexity", "-m", model])
        XCTAssertNotEqual(none.status, 0)
        XCTAssertTrue(
            none.stderr.contains("give the input with exactly one of -f TEXT or --tokens IDS.json"), none.stderr)
        let short = temporary("short.txt")
        defer { try? FileManager.default.removeItem(atPath: short) }
        try "Once upon a time".write(toFile: short, atomically: true, encoding: .utf8)
        let tooShort = try CLIRunner.run(["perplexity", "-m", model, "-f", short, "-c", "64"])
        XCTAssertNotEqual(tooShort.status, 0)
        XCTAssertTrue(tooShort.stderr.contains("the input has 5 tokens but 64 are needed"), tooShort.stderr)
        let badScheme = try CLIRunner.run([
            "perplexity", "-m", model, "-f", short, "-c", "0", "--compare", "none,warp:X=2",
        ])
        XCTAssertNotEqual(badScheme.status, 0)
        XCTAssertTrue(badScheme.stderr.contains("known schemes:"), badScheme.stderr)
        let badTokens = try CLIRunner.run(["perplexity", "-m", model, "--tokens", short])
        XCTAssertNotEqual(badTokens.status, 0)
        XCTAssertTrue(badTokens.stderr.contains("expected a JSON array of token ids"), badTokens.stderr)
    }

    func testPasskeyGridReportJSONAndHeatmap() throws {
        let model = try TestFiles.stories260K
        let json = temporary("pk.json")
        let svg = temporary("pk.svg")
        defer { for f in [json, svg] { try? FileManager.default.removeItem(atPath: f) } }
        let r = try CLIRunner.run([
            "passkey", "-m", model, "--lengths", "256,384", "--depths", "0,0.5,1", "--trials", "2",
            "--seed", "3", "--compare", "none,self-extend:G=2:W=64", "--json", json, "--plot", svg,
        ])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count > 5 else { return XCTFail("short output: \(r.stdout)") }
        XCTAssertEqual(
            lines[0],
            "passkey retrieval: 2 trials per cell, seed 3, 5-digit keys, greedy decoding, trained context L=512")
        XCTAssertEqual(lines[2], "none:")
        XCTAssertEqual(lines[3], "depth\\length     256     384")
        XCTAssertEqual(lines[4].prefix(4), "0.00")
        XCTAssertTrue(r.stdout.contains("self-extend:G=2:W=64: accuracy "), r.stdout)
        // Per scheme its context and KV cache lines, then the summary.
        let errLines = r.stderr.split(separator: "\n").map(String.init)
        XCTAssertEqual(errLines.count, 5, r.stderr)
        XCTAssertTrue(errLines[0].hasPrefix("none: context: "), r.stderr)
        XCTAssertTrue(errLines[1].hasPrefix("none: KV cache: K f16, V f16, "), r.stderr)
        XCTAssertTrue(errLines[2].hasPrefix("self-extend:G=2:W=64: context: "), r.stderr)
        XCTAssertTrue(errLines[3].hasPrefix("self-extend:G=2:W=64: KV cache: K f16, V f16"), r.stderr)
        XCTAssertTrue(errLines[4].hasPrefix("passkey: 2 schemes × 12 prompts in "), r.stderr)

        let report = try TestFiles.json(json)
        XCTAssertEqual(report["lengths"] as? [Int], [256, 384])
        let schemes = try XCTUnwrap(report["schemes"] as? [[String: Any]])
        XCTAssertEqual(schemes.count, 2)
        let cells = try XCTUnwrap(schemes[0]["cells"] as? [[String: Any]])
        XCTAssertEqual(cells.count, 6)
        let trials = cells.flatMap { $0["trials"] as! [[String: Any]] }
        XCTAssertEqual(trials.count, 12)
        XCTAssertTrue(
            trials.allSatisfy { (10000...99999).contains($0["key"] as! Int) && ($0["prompt_tokens"] as! Int) <= 384 })
        // Both schemes see the same keys.
        let otherKeys = (schemes[1]["cells"] as! [[String: Any]]).flatMap { $0["trials"] as! [[String: Any]] }.map {
            $0["key"] as! Int
        }
        XCTAssertEqual(trials.map { $0["key"] as! Int }, otherKeys)

        let heatmap = try ParsedSVG(String(contentsOfFile: svg, encoding: .utf8))
        XCTAssertEqual(heatmap.all("rect", in: "cells").count, 12)
        XCTAssertEqual(heatmap.texts(in: "column-groups"), ["none", "self-extend:G=2:W=64"])
        XCTAssertEqual(heatmap.texts(in: "y-axis"), ["0%", "50%", "100%", "key depth"])
    }

    /// A short version of must-show 3 (the full grid is in docs/TOOLS.md): Qwen finds the key with and without Self-Extend.
    func testQwenPasskeyShort() throws {
        let model = try TestFiles.qwen
        let r = try CLIRunner.run([
            "passkey", "-m", model, "--lengths", "256", "--depths", "0.5", "--trials", "1",
            "--compare", "none,self-extend:G=4:W=64", "--quiet",
        ])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("none: accuracy 100.0% (1/1)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("self-extend:G=4:W=64: accuracy 100.0% (1/1)"), r.stdout)
    }

    /// `--context-extension dca` and `string` work in generate, perplexity, passkey and bench; the start-up
    /// line names the map, that DCA has no length limit, and its temperature at the chosen context.
    func testDualChunkAndStringRunInEveryCommand() throws {
        let model = try TestFiles.stories260K
        let gen = try CLIRunner.run([
            "generate", "-m", model, "-p", "Once upon a time", "-n", "8", "--temp", "0", "--context-extension", "dca",
            "-c", "1024",
        ])
        XCTAssertEqual(gen.status, 0, gen.stderr)
        // mscale(1024/512)² = (1 + 0.05·ln 2)² = 1.0705.
        XCTAssertTrue(
            gen.stderr.contains(
                "context: 1024 tokens (trained L=512; dca:C=384:L=64; no length limit from positions; logits × 1.0705)"),
            gen.stderr)
        let text = try TestFiles.shared("data/text/tinystories_validation_head.txt")
        let ppl = try CLIRunner.run([
            "perplexity", "-m", model, "-f", text, "-c", "1024", "--chunks", "1", "--compare", "dca,string", "--quiet",
        ])
        XCTAssertEqual(ppl.status, 0, ppl.stderr)
        let estimates = finalEstimates(ppl.stdout)
        XCTAssertEqual(estimates.count, 2, ppl.stdout)
        XCTAssertTrue(estimates.allSatisfy { $0.isFinite && $0 > 1 }, ppl.stdout)
        // The JSON report resolves the defaults.
        let json = temporary("dca.json")
        defer { try? FileManager.default.removeItem(atPath: json) }
        let one = try CLIRunner.run([
            "perplexity", "-m", model, "-f", text, "-c", "600", "--chunks", "1", "--context-extension", "dca", "--quiet",
            "--json", json,
        ])
        XCTAssertEqual(one.status, 0, one.stderr)
        let schemes = try XCTUnwrap(try TestFiles.json(json)["schemes"] as? [[String: Any]])
        XCTAssertEqual(schemes.last?["parameters"] as? [String: Int], ["C": 384, "L": 64])
        let pk = try CLIRunner.run([
            "passkey", "-m", model, "--lengths", "700", "--depths", "0.5", "--trials", "1",
            "--compare", "dca:C=384:L=64,string:S=170:W=32", "--quiet",
        ])
        XCTAssertEqual(pk.status, 0, pk.stderr)
        XCTAssertTrue(pk.stdout.contains("dca:C=384:L=64: accuracy "), pk.stdout)
        XCTAssertTrue(pk.stdout.contains("string:S=170:W=32: accuracy "), pk.stdout)
        let bench = try CLIRunner.run([
            "bench", "-m", model, "-p", "32", "-n", "4", "--depths", "600", "-r", "1", "-o", "json", "-t", "1",
            "--compare", "dca,string",
        ])
        XCTAssertEqual(bench.status, 0, bench.stderr)
        let records = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(bench.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(
            records.map { $0["context_extension"] as! String },
            ["dca", "dca", "string", "string"], "reports carry the spec as given")
    }

    func testBenchRecordsLlamaBenchFields() throws {
        let model = try TestFiles.stories260K
        let r = try CLIRunner.run([
            "bench", "-m", model, "-p", "64", "-n", "8", "--depths", "0,128", "-r", "2", "-o", "json",
            "-gan", "4", "-gaw", "64", "-t", "1",
        ])
        XCTAssertEqual(r.status, 0, r.stderr)
        let records = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(
            records.map { $0["test"] as! String },
            ["pp64", "tg8", "pp64 @ d128", "tg8 @ d128", "pp64", "tg8", "pp64 @ d128", "tg8 @ d128"])
        XCTAssertEqual(
            records.map { $0["context_extension"] as! String },
            Array(repeating: "none", count: 4)
                + Array(repeating: "self-extend:G=4:W=64", count: 4))
        for rec in records {
            for k in ["n_prompt", "n_gen", "n_depth", "n_threads", "avg_ts", "stddev_ts", "samples_ts"] {
                XCTAssertNotNil(rec[k], "missing \(k)")
            }
            XCTAssertEqual(rec["n_threads"] as? Int, 1)
            XCTAssertGreaterThan(rec["avg_ts"] as! Double, 0)
            XCTAssertEqual((rec["samples_ts"] as! [Double]).count, 2)
        }
        XCTAssertEqual(records[2]["n_depth"] as? Int, 128)
        let md = try CLIRunner.run(["bench", "-m", model, "-p", "32", "-n", "0", "-r", "1", "--quiet"])
        XCTAssertEqual(md.status, 0, md.stderr)
        XCTAssertTrue(md.stdout.hasPrefix("| model "), md.stdout)
        XCTAssertEqual(md.stdout.split(separator: "\n").count, 3)
        XCTAssertTrue(md.stdout.contains("| none              | pp32 |"), md.stdout)
    }

    /// `bench --parallel`: several sequences decode together through the batch engine, every one its
    /// full -n tokens (the run fails otherwise), one record per sequence count, depth and scheme.
    func testBenchParallelDecodesSeveralSequencesAtOnce() throws {
        let model = try TestFiles.stories260K
        let r = try CLIRunner.run([
            "bench", "-m", model, "--parallel", "1,3", "-n", "6", "--depths", "0,20", "-r", "2", "-o", "json",
            "-gan", "4", "-gaw", "64", "-t", "1",
        ])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("--parallel times decode only"), r.stderr)
        let records = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        let tests = ["tg6 x1", "tg6 x3", "tg6 x1 @ d20", "tg6 x3 @ d20"]
        XCTAssertEqual(records.map { $0["test"] as! String }, tests + tests)
        XCTAssertEqual(records.map { $0["n_parallel"] as? Int }, [1, 3, 1, 3, 1, 3, 1, 3])
        XCTAssertEqual(
            records.map { $0["context_extension"] as! String },
            Array(repeating: "none", count: 4) + Array(repeating: "self-extend:G=4:W=64", count: 4))
        for rec in records {
            XCTAssertEqual(rec["n_gen"] as? Int, 6)
            XCTAssertEqual((rec["samples_ts"] as! [Double]).count, 2)
            XCTAssertGreaterThan(rec["avg_ts"] as! Double, 0)
        }
        let bad = try CLIRunner.run(["bench", "-m", model, "-npl", "2,0", "-n", "4", "-r", "1"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("parallel sequences"), bad.stderr)
    }

    func testHelpListsTheContractFlags() throws {
        for (cmd, flags) in [
            ("perplexity", ["--chunks", "--score", "--compare", "--tokens", "--csv", "--json", "--plot", "--quiet"]),
            ("passkey", ["--lengths", "--depths", "--trials", "--seed", "--json", "--plot"]),
            ("bench", ["-p", "-n", "--depths", "-r", "-o", "--grp-attn-n", "--parallel"]),
        ] {
            let r = try CLIRunner.run([cmd, "--help"])
            XCTAssertEqual(r.status, 0, r.stderr)
            for f in flags { XCTAssertTrue(r.stdout.contains(f), "\(cmd) --help lacks \(f):\n\(r.stdout)") }
        }
    }
}
