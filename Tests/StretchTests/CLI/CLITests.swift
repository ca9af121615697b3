import Foundation
import XCTest

/// The `stretch` binary, run as a user runs it.
final class CLITests: XCTestCase {
    func testGenerateGreedyStories260KStreamsTextAndTimings() throws {
        let model = try TestFiles.stories260K
        let r = try CLIRunner.run(["generate", "-m", model, "-p", "Once upon a time", "-n", "24", "--temp", "0"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix(", there was a little girl named Lily."), r.stdout)
        XCTAssertTrue(r.stderr.contains("prompt: 5 tokens"), r.stderr)
        XCTAssertTrue(r.stderr.contains("tokens/s"), r.stderr)
        XCTAssertFalse(r.stdout.contains("tokens/s"), "timings belong on stderr")
        // 5 layers × 4 KV heads × head dim 8 × (K + V) × 2 bytes (f16), 512 tokens: 0.3125 MiB.
        XCTAssertTrue(r.stderr.contains("KV cache: K f16, V f16, \(5 * 4 * 8 * 2 * 2) B per token, at most 0.3 MiB for 512 tokens"),
                      r.stderr)
    }

    /// Self-Extend's KV line: far keys and values per token (5 · 4 · 8 · 2 · 2 B at f16) plus a ring of near keys
    /// (63 + 256 → 320 slots of 5 · 4 · 8 · 2 B); with --kv-full-history two key copies per token and no ring.
    func testGenerateWithSelfExtendReportsTheRing() throws {
        let model = try TestFiles.stories260K
        let args = ["generate", "-m", model, "-p", "Once upon a time", "-n", "4", "--temp", "0", "-gan", "4", "-gaw", "64", "-c", "1024"]
        let ring = try CLIRunner.run(args)
        XCTAssertEqual(ring.status, 0, ring.stderr)
        // 640 · 1024 + 320 · 320 bytes = 0.72 MiB.
        XCTAssertTrue(ring.stderr.contains("KV cache: K f16, V f16 (far keys for every token, near keys in a ring), "
            + "\(5 * 4 * 8 * 2 * 2) B per token + rings of 320 slots (0.1 MiB), at most 0.7 MiB for 1024 tokens"), ring.stderr)
        let whole = try CLIRunner.run(args + ["--kv-full-history"])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        // 960 · 1024 bytes = 0.94 MiB.
        XCTAssertTrue(whole.stderr.contains("KV cache: K f16, V f16 (two key copies), \(5 * 4 * 8 * 3 * 2) B per token, "
            + "at most 0.9 MiB for 1024 tokens"), whole.stderr)
        XCTAssertEqual(ring.stdout, whole.stdout, "the rings do not change the output")
    }

    /// Quantized KV types from the command line: the start-up line names them and the bytes per token
    /// (24 layers × 2 KV heads × (Q8_0 key 68 B + Q4_0 value 36 B) for 64-wide heads in blocks of 32).
    func testGenerateWithQuantizedKVCache() throws {
        let model = try TestFiles.qwen
        let r = try CLIRunner.run(["generate", "-m", model, "-p", "def fibonacci(n):", "-n", "8", "--temp", "0", "-c", "1024",
                                   "-ctk", "q8_0", "-ctv", "q4_0"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("KV cache: K q8_0, V q4_0, \(24 * 2 * (2 * 34 + 2 * 18)) B per token"), r.stderr)
        let stories = try CLIRunner.run(["generate", "-m", try TestFiles.stories260K, "-p", "x", "-ctk", "q4_0"])
        XCTAssertNotEqual(stories.status, 0)
        XCTAssertTrue(stories.stderr.contains("need a head width that is a multiple of 32; this model's is 8"), stories.stderr)
    }

    func testGenerateQwenIsFluent() throws {
        let model = try TestFiles.qwen
        let r = try CLIRunner.run(["generate", "-m", model, "-p", "def fibonacci(n):", "-n", "16", "--temp", "0", "--precision", "f32"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("\n    if n <= 0:\n        return"), r.stdout)
    }

    func testTokenizePrintsLlamaCppIDs() throws {
        let model = try TestFiles.stories260K
        let r = try CLIRunner.run(["tokenize", "-m", model, "-p", "Once upon a time"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "[1, 403, 407, 261, 378]\n")
        let p = try CLIRunner.run(["tokenize", "-m", model, "-p", "Once upon", "--pieces"])
        XCTAssertEqual(p.stdout, "[[1, \"<s>\"], [403, \" Once\"], [407, \" upon\"]]\n")
    }

    func testInspectDescribesTheModel() throws {
        let model = try TestFiles.stories260K
        let r = try CLIRunner.run(["inspect", model])
        XCTAssertEqual(r.status, 0, r.stderr)
        for needle in ["architecture: llama", "context_length (trained L): 512", "heads: 8 query / 4 kv, head_dim: 8",
                       "tokenizer: llama", "512 tokens", "tensors: 47 (F32 47)",
                       // 5 layers × 4 KV heads × head dim 8 × (K + V) × 4 bytes; the Q blocks need heads of 32.
                       // Self-Extend (W = L/2 = 256): far keys and values per token, near keys in a ring of
                       // 255 + 256 → 512 slots (5 · 4 · 8 · 4 bytes each: 320 KiB).
                       "kv cache per token: f32 \(5 * 4 * 8 * 2 * 4) B (self-extend \(5 * 4 * 8 * 2 * 4) B + "
                           + "\(512 * 5 * 4 * 8 * 4 / 1024) KiB ring; 640 KiB at L), f16 \(5 * 4 * 8 * 2 * 2) B",
                       "q8_0 n/a (head_dim 8 % 32 ≠ 0)"] {
            XCTAssertTrue(r.stdout.contains(needle), "missing '\(needle)' in:\n\(r.stdout)")
        }
    }

    /// `inspect` names what stops a file: an unsupported architecture (with the supported list) or a
    /// tensor the architecture does not use; a supported file says it loads.
    func testInspectNamesWhatIsMissing() throws {
        let dir = NSTemporaryDirectory() + "stretch-inspect-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try TinyModel(architecture: "mamba").write(to: dir + "/mamba.gguf")
        let mamba = try CLIRunner.run(["inspect", dir + "/mamba.gguf"])
        XCTAssertEqual(mamba.status, 0, mamba.stderr)
        XCTAssertTrue(mamba.stdout.contains("architecture: mamba (not supported yet; supported: llama, mistral, qwen2, qwen3, "
            + "gemma2, gemma3, phi3, granite, smollm3)"), mamba.stdout)
        try TinyModel(extra: ["blk.0.attn_output.bias": [64]]).write(to: dir + "/extra.gguf")
        let extra = try CLIRunner.run(["inspect", dir + "/extra.gguf"])
        XCTAssertTrue(extra.stdout.contains("loads: no — "), extra.stdout)
        XCTAssertTrue(extra.stdout.contains("tensor 'blk.0.attn_output.bias' is not used by architecture 'llama'"), extra.stdout)
        let phi3 = try CLIRunner.run(["inspect", ArchitectureReferenceTests.directory + "/phi3.gguf"])
        XCTAssertTrue(phi3.stdout.contains("loads: yes"), phi3.stdout)
        XCTAssertTrue(phi3.stdout.contains("scaling longrope(original=64)"), phi3.stdout)
    }

    func testBadInputsGiveClearErrorsNotCrashes() throws {
        let stories = try TestFiles.stories260K
        let missing = try CLIRunner.run(["generate", "-m", "/nonexistent/model.gguf", "-p", "x"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("model file not found: /nonexistent/model.gguf"), missing.stderr)

        let notGGUF = NSTemporaryDirectory() + "stretch-not-gguf-\(UUID().uuidString).gguf"
        try Data("hello world, not a model".utf8).write(to: URL(fileURLWithPath: notGGUF))
        defer { try? FileManager.default.removeItem(atPath: notGGUF) }
        let bad = try CLIRunner.run(["inspect", notGGUF])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("not a GGUF file"), bad.stderr)

        let long = String(repeating: "Once upon a time there was a dog. ", count: 100)
        let tooLong = try CLIRunner.run(["generate", "-m", stories, "-p", long, "-n", "8"])
        XCTAssertNotEqual(tooLong.status, 0)
        XCTAssertTrue(tooLong.stderr.contains("exceeds the context of 512 tokens"), tooLong.stderr)
        XCTAssertTrue(tooLong.stderr.contains("raise -c, lower -n, or use Self-Extend (-gan/-gaw)"), tooLong.stderr)

        let badSE = try CLIRunner.run(["generate", "-m", stories, "-p", "x", "-gan", "4", "-gaw", "600"])
        XCTAssertNotEqual(badSE.status, 0)
        XCTAssertTrue(badSE.stderr.contains("must be smaller than the trained context L=512"), badSE.stderr)
        XCTAssertTrue(badSE.stderr.contains("set W with -gaw (--grp-attn-w)"), badSE.stderr)

        // A library error (no flags in its text) printed with the CLI's flag hint.
        let pastMax = try CLIRunner.run(["generate", "-m", stories, "-p", "x", "-c", "9000", "-gan", "2", "-gaw", "64"])
        XCTAssertNotEqual(pastMax.status, 0)
        XCTAssertTrue(
            pastMax.stderr.contains(
                "9000 tokens exceed the maximum of 960: Self-Extend with G=2, W=64 on a model trained at L=512 reaches "),
            pastMax.stderr)
        XCTAssertTrue(
            pastMax.stderr.contains(
                "use a larger G or a smaller context; set -c to at most the maximum and at least the tokens needed, "
                    + "or use a larger G (-gan)"), pastMax.stderr)

        let badTemp = try CLIRunner.run(["generate", "-m", stories, "-p", "x", "--top-p", "1.5"])
        XCTAssertNotEqual(badTemp.status, 0)
        XCTAssertTrue(badTemp.stderr.contains("invalid top-p 1.5: must be in (0, 1]; set it with --top-p"), badTemp.stderr)
    }
}
